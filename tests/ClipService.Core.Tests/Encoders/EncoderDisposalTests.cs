using ClipService.Core.Encoders;
using ClipService.Core.Models;
using Microsoft.ML.OnnxRuntime;

namespace ClipService.Core.Tests.Encoders;

/// <summary>A disposed model never runs on freed sessions (#24): a call after disposal throws, one in progress keeps its session.</summary>
public sealed class EncoderDisposalTests
{
    [Fact]
    public void Encoding_after_the_model_is_disposed_throws_object_disposed_instead_of_reading_freed_memory()
    {
        var model = ClipModel.Load(TestPaths.TinyModel);
        var pixels = new float[model.Preprocessor.TensorLength];
        var embedding = new float[model.EmbeddingSize];
        model.Image.Encode(pixels, 1, embedding);
        var prompt = model.Tokenizer.Tokenize("a photo of a cat", model.ContextLength);
        model.Dispose();

        Assert.Throws<ObjectDisposedException>(() => model.Text.Encode([prompt]));
        Assert.Throws<ObjectDisposedException>(() => model.Image.Encode(pixels, 1, embedding));
        model.Dispose(); // twice is harmless
    }

    [Fact]
    public void A_session_held_by_a_run_is_freed_when_that_run_ends_not_when_the_owner_lets_go()
    {
        var session = new InferenceSession(Path.Combine(TestPaths.TinyModel, "onnx", "text_model.onnx"));
        var lease = new SessionLease(session, "text_model.onnx");
        var held = lease.Enter();

        lease.Release();
        Assert.False(lease.IsFreed);
        Assert.NotEmpty(held.InputMetadata); // still usable by the run holding it
        Assert.Throws<ObjectDisposedException>(() => lease.Enter()); // no new run starts

        lease.Exit();
        Assert.True(lease.IsFreed);
        lease.Release(); // idempotent: the session is not freed twice
        Assert.True(lease.IsFreed);
    }
}
