using System.Numerics.Tensors;
using System.Text.Json;
using ClipService.Core.Models;
using ClipService.Core.Tokenization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ClipService.Core.Tests.Families;

/// <summary>
/// The random-weight family exports (tools/make_family_models.py) against transformers.js
/// (tools/oracle/zero_shot.mjs): the same ids, id for id, and the same text embeddings. The Hugging Face folders'
/// references come from the combined onnx/model.onnx; ClipService runs the split graphs.
/// </summary>
public sealed class FamilyExportTests
{
    private const double MinCosine = 0.99999;

    private static string Folder(string name) => Path.Combine(TestPaths.Assets, "families", name);

    private sealed record Reference(string[] ServicePrompts, int[][] InputIds, float[][] TextEmbeds);

    private static Reference Read(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder(name), "reference.json")));
        var root = doc.RootElement;
        string[] prompts = root.TryGetProperty("labels", out var labels)
            ? [.. labels.EnumerateArray().Select(l => root.GetProperty("template").GetString()!.Replace("{}", l.GetString(), StringComparison.Ordinal))]
            : [.. root.GetProperty("prompts").EnumerateArray().Select(p => p.GetString()!)];
        return new Reference(
            prompts,
            [.. root.GetProperty("input_ids").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray())],
            [.. root.GetProperty("text_embeds").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray())]);
    }

    public static TheoryData<string, string> Families => new()
    {
        { "siglip", "siglip" },
        { "siglip2", "siglip2" },
        { "chinese-clip", "chinese_clip" },
        { "immich-xlmr", "xlm_roberta_clip" },
        { "immich-siglip2", "siglip2" },
    };

    [Theory]
    [InlineData("siglip", "en", "zh")]
    [InlineData("chinese-clip", "zh,en", "fr")]
    [InlineData("siglip2", null, null)]
    [InlineData("immich-xlmr", null, null)]
    [InlineData("immich-siglip2", null, null)]
    public void The_languages_a_model_reads_come_from_its_family_and_vocabulary(string folder, string? reads, string? doesNotRead)
    {
        using var model = ClipModel.Load(Folder(folder));
        if (reads is null)
        {
            // Multilingual vocabularies (XLM-R, Gemma): every set is worth embedding ahead of time.
            Assert.Null(model.Languages);
            Assert.True(model.Reads("zh") && model.Reads("en") && model.Reads("fr"));
        }
        else
        {
            Assert.Equal(reads.Split(',').Order(), model.Languages!.Order());
            Assert.All(reads.Split(','), l => Assert.True(model.Reads(l)));
            Assert.False(model.Reads(doesNotRead));
        }

        Assert.True(model.Reads(null));
    }

    [Fact]
    public void An_OpenAI_CLIP_reads_English_only()
    {
        using var model = ClipModel.Load(TestPaths.DefaultModel);
        Assert.True(model.Reads("en"));
        Assert.False(model.Reads("zh"));
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void The_family_is_read_from_the_files_and_the_ids_equal_transformers_js(string folder, string family)
    {
        using var model = ClipModel.Load(Folder(folder));
        Assert.Equal(family, model.Family.Name);
        var reference = Read(folder);
        for (var i = 0; i < reference.ServicePrompts.Length; i++)
        {
            var ids = model.Tokenizer.Tokenize(reference.ServicePrompts[i], model.ContextLength);
            var expected = reference.InputIds[i];
            // transformers.js padded its batch (to 64 for SigLIP, to the longest for BERT); immich's are unpadded.
            Assert.Equal(expected.Take(ids.Length), ids);
            Assert.All(expected.Skip(ids.Length), id => Assert.Equal(model.Text.PadId, id));
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Text_embeddings_from_the_split_graphs_match_transformers_js(string folder, string family)
    {
        using var model = ClipModel.Load(Folder(folder));
        Assert.Equal(family, model.Family.Name);
        var reference = Read(folder);
        var embeddings = model.EncodeTexts(reference.ServicePrompts);
        for (var i = 0; i < reference.ServicePrompts.Length; i++)
        {
            var cos = TensorPrimitives.CosineSimilarity(reference.TextEmbeds[i], embeddings.AsSpan(i * model.EmbeddingSize, model.EmbeddingSize));
            Assert.True(cos >= MinCosine, $"{folder} '{reference.ServicePrompts[i]}': cos {cos:F7}");
        }
    }

    /// <summary>
    /// Why SigLIP is always padded to 64 with its own pad id: the text tower has no mask and pools the last
    /// position, so the batch padded to its longest prompt (what CLIP runtimes do), or padded with another id,
    /// gives other embeddings. The control runs the same graph, so only the padding differs.
    /// </summary>
    [Theory]
    [InlineData("siglip")]
    [InlineData("siglip2")]
    public void Padding_SigLIP_to_the_longest_prompt_or_with_another_id_moves_the_embeddings(string folder)
    {
        using var model = ClipModel.Load(Folder(folder));
        var reference = Read(folder);
        var prompts = reference.ServicePrompts.Select(p => model.Tokenizer.Tokenize(p, model.ContextLength)).ToList();
        var longest = prompts.Max(p => p.Length);
        var otherPad = model.Text.PadId == 0 ? 1 : 0;

        using var session = new InferenceSession(Path.Combine(Folder(folder), "onnx", "text_model.onnx"));
        var toLongest = Embed(session, prompts, longest, model.Text.PadId);
        var otherId = Embed(session, prompts, model.ContextLength, otherPad);
        var exact = Embed(session, prompts, model.ContextLength, model.Text.PadId);

        for (var i = 0; i < prompts.Count; i++)
            Assert.True(TensorPrimitives.CosineSimilarity(reference.TextEmbeds[i], exact[i]) >= MinCosine, $"the control itself, prompt {i}");
        Assert.Contains(Enumerable.Range(0, prompts.Count), i => TensorPrimitives.CosineSimilarity(reference.TextEmbeds[i], toLongest[i]) < 0.999);
        Assert.All(Enumerable.Range(0, prompts.Count), i => Assert.True(TensorPrimitives.CosineSimilarity(reference.TextEmbeds[i], otherId[i]) < 0.999,
            $"prompt {i} padded with id {otherPad} should differ"));
    }

    private static float[][] Embed(InferenceSession session, List<int[]> prompts, int length, int padId)
    {
        var ids = new long[prompts.Count * length];
        Array.Fill(ids, padId);
        for (var r = 0; r < prompts.Count; r++)
            for (var t = 0; t < prompts[r].Length; t++)
                ids[r * length + t] = prompts[r][t];
        using var input = OrtValue.CreateTensorValueFromMemory(ids, [prompts.Count, length]);
        using var options = new RunOptions();
        using var outputs = session.Run(options, ["input_ids"], [input], ["pooler_output"]);
        var data = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        var size = data.Length / prompts.Count;
        return [.. data.Chunk(size)];
    }

    /// <summary>
    /// SigLIP 2's lowercasing equals Python's <c>str.lower</c>, final sigma included (the expected strings are what
    /// Python 3.11 gives). Its tokenizer falls back to bytes, so σ and ς give different ids.
    /// </summary>
    [Theory]
    [InlineData("ΟΔΟΣ", "οδος")]
    [InlineData("ΟΔΟΣ ΟΔΟΣ.", "οδος οδος.")]
    [InlineData("ΣΑ", "σα")]
    [InlineData("Σ", "σ")]
    [InlineData("1Σ", "1σ")]
    [InlineData("ΑΣ'Β", "ασ'β")]
    [InlineData("a\u03A3\u0301", "a\u03C2\u0301")]
    [InlineData("İstanbul", "i\u0307stanbul")]
    public void SigLIP_2_lowercases_as_python_does(string text, string pythonLower)
    {
        using var model = ClipModel.Load(Folder("siglip2"));
        Assert.Equal(model.Tokenizer.Tokenize(pythonLower, 64), model.Tokenizer.Tokenize(text, 64));
        if (pythonLower.Contains('ς', StringComparison.Ordinal))
            Assert.NotEqual(model.Tokenizer.Tokenize(pythonLower.Replace('ς', 'σ'), 64), model.Tokenizer.Tokenize(text, 64));
    }

    /// <summary>
    /// A normalizer that deletes punctuation before it lowercases (SigLIP's shape): final sigma is judged on the text
    /// the lowercasing step sees, as transformers.js does ("ΑΣ-Β" has a medial σ once "-" is gone).
    /// </summary>
    [Fact]
    public void Final_sigma_is_judged_after_the_characters_the_normalizer_deletes_first()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder("siglip2"), "sigma-reference.json")));
        var reference = doc.RootElement;
        var tokenizerJson = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(Folder("siglip2"), "tokenizer.json")))!.AsObject();
        tokenizerJson["normalizer"] = System.Text.Json.Nodes.JsonNode.Parse(reference.GetProperty("normalizer").GetRawText());
        var path = Path.Combine(Path.GetTempPath(), $"sigma-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, tokenizerJson.ToJsonString());
        try
        {
            using var tokenizer = HuggingFaceTokenizer.Load(path);
            var texts = reference.GetProperty("texts").EnumerateArray().Select(t => t.GetString()!).ToList();
            var expected = reference.GetProperty("input_ids").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToList();
            for (var i = 0; i < texts.Count; i++)
                Assert.True(expected[i].SequenceEqual(tokenizer.Tokenize(texts[i], 64)), $"'{texts[i]}'");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A malformed tokenizer.json stops the load with a <see cref="ModelFolderException"/> naming the file,
    /// never a bare framework exception (which would reach the start-up line without the file's name).</summary>
    [Theory]
    [InlineData("[]")]
    [InlineData("""{"model": {"type": 5}}""")]
    [InlineData("""{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["a", 0.0], 7]}}""")]
    [InlineData("""{"added_tokens": [{"id": "x", "content": "<s>"}], "model": {"type": "Unigram", "unk_id": 0, "vocab": [["a", 0.0]]}}""")]
    [InlineData("""{"added_tokens": [{"id": 99999999999, "content": "<s>"}], "model": {"type": "Unigram", "unk_id": 0, "vocab": [["a", 0.0]]}}""")]
    public void A_malformed_tokenizer_json_is_refused_naming_the_file(string json)
    {
        var path = Path.Combine(Path.GetTempPath(), $"bad-tokenizer-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        try
        {
            var e = Assert.Throws<ModelFolderException>(() => HuggingFaceTokenizer.Load(path).Dispose());
            Assert.Contains(path, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
