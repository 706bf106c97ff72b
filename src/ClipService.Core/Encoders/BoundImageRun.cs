using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ClipService.Core.Encoders;

/// <summary>
/// An image batch handed to ONNX Runtime through IOBinding: the pixels are staged once in host memory that the
/// session's allocator owns (page-locked on CUDA, so the host-to-device transfer is one DMA copy rather than a copy
/// into a staging buffer and another to the device), and the embeddings are bound to the same kind of memory, so
/// ONNX Runtime writes them there directly. On the CPU provider the staging memory is ordinary memory: the same
/// code runs, which is how it is tested without a GPU. The allocations come from the session's arena and go back
/// to it after each run; nothing is pinned for longer than a run.
/// </summary>
internal sealed class BoundImageRun : IDisposable
{
    private readonly InferenceSession _session;
    private readonly OrtMemoryInfo _hostMemory;
    private readonly OrtAllocator _allocator;
    private readonly bool _ownsMemoryInfo;

    public BoundImageRun(InferenceSession session, string provider)
    {
        _session = session;
        if (provider == OnnxSessionFactory.CudaProvider)
        {
            // The CUDA provider registers its pinned-host allocator as device 0 whatever GPU the session runs on.
            _hostMemory = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA_PINNED, OrtAllocatorType.DeviceAllocator, 0, OrtMemType.CpuOutput);
            _ownsMemoryInfo = true;
        }
        else
        {
            _hostMemory = OrtMemoryInfo.DefaultInstance;
        }

        try
        {
            _allocator = new OrtAllocator(session, _hostMemory);
        }
        catch
        {
            if (_ownsMemoryInfo)
                _hostMemory.Dispose();
            throw;
        }
    }

    /// <summary>The memory the pixels are staged in and the embeddings come back to ("Cpu" or "CudaPinned").</summary>
    public string HostMemory => _hostMemory.Name;

    public void Run(string inputName, TensorElementType inputType, ReadOnlySpan<float> pixels, long[] shape, string outputName, int rows, int size, Span<float> embeddings)
    {
        using var staged = OrtValue.CreateAllocatedTensorValue(_allocator, inputType, shape);
        if (inputType == TensorElementType.Float16)
            TensorPrimitives.ConvertToHalf(pixels, MemoryMarshal.Cast<Float16, Half>(staged.GetTensorMutableDataAsSpan<Float16>()));
        else
            pixels.CopyTo(staged.GetTensorMutableDataAsSpan<float>());

        using var binding = _session.CreateIoBinding();
        binding.BindInput(inputName, staged);
        binding.BindOutputToDevice(outputName, _hostMemory);
        using var runOptions = new RunOptions();
        _session.RunWithBinding(runOptions, binding);
        using var outputs = binding.GetOutputValues();
        OnnxGraph.ReadNormalised(outputs[0], rows, size, embeddings);
    }

    public void Dispose()
    {
        _allocator.Dispose();
        if (_ownsMemoryInfo)
            _hostMemory.Dispose();
    }
}
