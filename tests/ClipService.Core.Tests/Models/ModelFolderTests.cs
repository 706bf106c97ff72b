using ClipService.Core.Models;

namespace ClipService.Core.Tests.Models;

public sealed class ModelFolderTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("clip-folder-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private string CopyOfTinyModel()
    {
        var target = Path.Combine(_scratch, "tiny-copy");
        foreach (var file in Directory.EnumerateFiles(TestPaths.TinyModel, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(TestPaths.TinyModel, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        return target;
    }

    [Fact]
    public void A_missing_folder_is_named()
    {
        var missing = Path.Combine(_scratch, "nope");
        var e = Assert.Throws<ModelFolderException>(() => ClipModelFolder.Open(missing));
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_without_encoders_lists_what_was_expected()
    {
        File.WriteAllText(Path.Combine(_scratch, "readme.txt"), "hi");
        var e = Assert.Throws<ModelFolderException>(() => ClipModelFolder.Open(_scratch));
        Assert.Contains("onnx/text_model.onnx", e.Message, StringComparison.Ordinal);
        Assert.Contains("textual.onnx", e.Message, StringComparison.Ordinal);
        Assert.Contains("readme.txt", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("onnx/vision_model.onnx", "vision_model.onnx")]
    [InlineData("preprocessor_config.json", "preprocessor_config.json")]
    [InlineData("config.json", "config.json")]
    [InlineData("merges.txt", "merges.txt")]
    public void A_missing_file_is_named(string file, string expectedInMessage)
    {
        var folder = CopyOfTinyModel();
        File.Delete(Path.Combine(folder, file));
        var e = Assert.Throws<ModelFolderException>(() => ClipModel.Load(folder));
        Assert.Contains(expectedInMessage, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_crop_size_that_disagrees_with_the_graph_is_refused()
    {
        var folder = CopyOfTinyModel();
        var path = Path.Combine(folder, "preprocessor_config.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"height\": 32", "\"height\": 48", StringComparison.Ordinal));
        var e = Assert.Throws<ModelFolderException>(() => ClipModel.Load(folder));
        Assert.Contains("32×32", e.Message, StringComparison.Ordinal);
        Assert.Contains("48×32", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_projection_dim_that_disagrees_with_the_graphs_is_refused()
    {
        var folder = CopyOfTinyModel();
        var path = Path.Combine(folder, "config.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"projection_dim\": 32,", "\"projection_dim\": 512,", StringComparison.Ordinal));
        var e = Assert.Throws<ModelFolderException>(() => ClipModel.Load(folder));
        Assert.Contains("projection_dim 512", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Broken_json_names_the_file()
    {
        var folder = CopyOfTinyModel();
        File.WriteAllText(Path.Combine(folder, "preprocessor_config.json"), "{ not json");
        var e = Assert.Throws<ModelFolderException>(() => ClipModel.Load(folder));
        Assert.Contains("preprocessor_config.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_requested_fp16_variant_that_is_absent_is_named()
    {
        var e = Assert.Throws<ModelFolderException>(() => ClipModelFolder.Open(TestPaths.TinyModel, ModelPrecision.Fp16));
        Assert.Contains("text_model_fp16.onnx", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_trained_logit_scale_is_read_from_config_json_and_can_be_overridden()
    {
        var folder = CopyOfTinyModel();
        var path = Path.Combine(folder, "config.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"model_type\": \"clip\",", "\"model_type\": \"clip\", \"trained_logit_scale\": 42.5,", StringComparison.Ordinal));
        using (var model = ClipModel.Load(folder))
            Assert.Equal(42.5f, model.Scoring.Scale);
        using (var overridden = ClipModel.Load(folder, new ClipModelLoadOptions { LogitScale = 7f }))
            Assert.Equal(7f, overridden.Scoring.Scale);
    }
}
