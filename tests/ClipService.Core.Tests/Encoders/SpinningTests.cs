using ClipService.Core.Encoders;

namespace ClipService.Core.Tests.Encoders;

/// <summary>Clip:ExecutionProvider:Spinning: which encoders busy-wait, and the earlier AllowSpinning still meaning what it meant.</summary>
public sealed class SpinningTests
{
    private const long Small = ExecutionProviderOptions.SpinDuringRunsFromBytes - 1;
    private const long Big = ExecutionProviderOptions.SpinDuringRunsFromBytes;

    [Theory]
    [InlineData(SpinningMode.Auto, null, Small, SpinningMode.Off)]
    [InlineData(SpinningMode.Auto, null, Big, SpinningMode.DuringRuns)]
    [InlineData(SpinningMode.Off, null, Big, SpinningMode.Off)]
    [InlineData(SpinningMode.DuringRuns, null, Small, SpinningMode.DuringRuns)]
    [InlineData(SpinningMode.Always, null, Small, SpinningMode.Always)]
    [InlineData(SpinningMode.Auto, true, Small, SpinningMode.Always)]
    [InlineData(SpinningMode.DuringRuns, false, Big, SpinningMode.Off)]
    public void An_encoder_spins_by_its_size_unless_told(SpinningMode configured, bool? allowSpinning, long bytes, SpinningMode expected) =>
        Assert.Equal(expected, new ExecutionProviderOptions { Spinning = configured, AllowSpinning = allowSpinning }.SpinningFor(bytes));

    [Fact]
    public void An_encoders_size_counts_its_external_weights()
    {
        var folder = Directory.CreateTempSubdirectory("spinning-");
        try
        {
            File.WriteAllBytes(Path.Combine(folder.FullName, "vision_model.onnx"), new byte[100]);
            File.WriteAllBytes(Path.Combine(folder.FullName, "vision_model.onnx_data"), new byte[1000]);
            File.WriteAllBytes(Path.Combine(folder.FullName, "text_model.onnx"), new byte[10_000]);
            Assert.Equal(1100, OnnxSessionFactory.ModelBytes(Path.Combine(folder.FullName, "vision_model.onnx")));
            Assert.True(OnnxSessionFactory.ModelBytes(Path.Combine(TestPaths.DefaultModel, "onnx", "vision_model.onnx")) < ExecutionProviderOptions.SpinDuringRunsFromBytes,
                "the default model is small: Auto leaves its threads asleep");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
