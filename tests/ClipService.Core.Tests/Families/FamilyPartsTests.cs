using System.Text.Json.Nodes;
using ClipService.Core.Imaging;
using ClipService.Core.Scoring;
using ClipService.Core.Tokenization;
using Xunit;

namespace ClipService.Core.Tests.Families;

public sealed class FamilyPartsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("families-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Sigmoid_scores_each_label_on_its_own_with_the_trained_bias()
    {
        var scoring = new SigmoidScoring(10f, -2f);
        var scores = new float[3];
        scoring.Score([0.1f, 0.2f, 0.5f], scores);
        for (var i = 0; i < 3; i++)
        {
            var cos = new[] { 0.1f, 0.2f, 0.5f }[i];
            Assert.Equal(1 / (1 + Math.Exp(-(10 * cos - 2))), scores[i], 1e-6);
        }

        Assert.NotEqual(1f, scores.Sum(), 3);
        Assert.Equal("sigmoid", scoring.Name);
    }

    [Fact]
    public void A_model_without_a_trained_bias_ranks_by_cosine()
    {
        var ranked = ZeroShotScorer.Rank([1f, 0f], (float[])[0.6f, 0.8f, 0.9f, 0.1f], ["a", "b"], new RankOnlyScoring());
        Assert.Equal(["b", "a"], ranked.Select(r => r.Label));
        Assert.Equal(ranked[0].Similarity, ranked[0].Score);
    }

    [Fact]
    public void A_siglip_processor_without_do_center_crop_squashes_to_its_size()
    {
        var path = Write("preprocessor_config.json", """
            {"image_processor_type": "SiglipImageProcessor", "size": {"height": 384, "width": 384}, "resample": 2,
             "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "do_resize": true, "do_normalize": true}
            """);
        var settings = PreprocessorSettings.Load(path, centerCropWhenUnsaid: true);
        Assert.False(settings.CenterCrop);
        Assert.Equal((384, 384), settings.OutputSize);
        Assert.Equal(ResampleFilter.Bilinear, settings.Filter);
        Assert.Equal([0.5f, 0.5f, 0.5f], settings.Mean);
    }

    [Fact]
    public void A_clip_processor_without_do_center_crop_keeps_its_class_default_crop()
    {
        var path = Write("preprocessor_config.json", """{"image_processor_type": "CLIPImageProcessor", "size": {"shortest_edge": 336}}""");
        var settings = PreprocessorSettings.Load(path, centerCropWhenUnsaid: false);
        Assert.True(settings.CenterCrop);
        Assert.Equal((336, 336), settings.OutputSize);
    }

    [Theory]
    [InlineData("shortest", true)]
    [InlineData("squash", false)]
    public void Open_clip_preprocess_cfg_is_read(string mode, bool crops)
    {
        var path = Write("preprocess_cfg.json", $$"""
            {"size": [256, 256], "mode": "RGB", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "interpolation": "bilinear", "resize_mode": "{{mode}}"}
            """);
        var settings = PreprocessorSettings.LoadOpenClip(path);
        Assert.Equal(crops, settings.CenterCrop);
        Assert.Equal((256, 256), settings.OutputSize);
        Assert.Equal(ResampleFilter.Bilinear, settings.Filter);
    }

    [Fact]
    public void The_hugging_face_tokenizer_ignores_the_files_padding_and_keeps_the_end_token_when_cutting()
    {
        using var tokenizer = HuggingFaceTokenizer.Load(WordPieceTokenizer());
        Assert.Equal("WordPiece", tokenizer.Kind);
        Assert.Equal([2, 4, 5, 8, 3], tokenizer.Tokenize("A cat.", 52, out var truncated));
        Assert.False(truncated);
        // [CLS] cat ##s 猫 猫 a … [SEP]: cut to 5 with [SEP] last, as Hugging Face truncates.
        Assert.Equal([2, 5, 7, 6, 3], tokenizer.Tokenize("cats 猫猫 a a", 5, out truncated));
        Assert.True(truncated);
        Assert.Equal([2, 3], tokenizer.Tokenize("", 52));
        Assert.True(tokenizer.TryGetId("[PAD]", out var pad) && pad == 0);
    }

    [Fact]
    public void A_lone_surrogate_is_refused_as_the_clients_text()
    {
        using var tokenizer = HuggingFaceTokenizer.Load(WordPieceTokenizer());
        Assert.Throws<TextNotTokenizableException>(() => tokenizer.Tokenize("a\uD800cat", 52));
    }

    [Fact]
    public void Lowercasing_and_an_end_token_are_put_into_the_tokenizer()
    {
        var plain = HuggingFaceTokenizer.Load(WordPieceTokenizer(lowercase: false));
        using var adjusted = HuggingFaceTokenizer.Load(WordPieceTokenizer(lowercase: false), new TokenizerAdjustments(Lowercase: true, EndTokenOnly: "[SEP]"));
        Assert.Equal([1, 5, 3], plain.Tokenize("Cat cat", 52)[1..]);
        Assert.Equal([5, 5, 3], adjusted.Tokenize("Cat cat", 52));
        Assert.Equal(1, adjusted.SuffixTokens);
        plain.Dispose();
    }

    private string WordPieceTokenizer(bool lowercase = true)
    {
        var json = JsonNode.Parse("""
            {"version": "1.0",
             "truncation": {"direction": "Right", "max_length": 4, "strategy": "LongestFirst", "stride": 0},
             "padding": {"strategy": {"Fixed": 8}, "direction": "Right", "pad_to_multiple_of": null, "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"},
             "added_tokens": [
               {"id": 0, "content": "[PAD]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
               {"id": 1, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
               {"id": 2, "content": "[CLS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
               {"id": 3, "content": "[SEP]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
             "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
             "pre_tokenizer": {"type": "BertPreTokenizer"},
             "post_processor": {"type": "TemplateProcessing",
               "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
               "pair": [],
               "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]}, "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
             "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
             "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
               "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "a": 4, "cat": 5, "猫": 6, "##s": 7, ".": 8}}}
            """)!.AsObject();
        json["normalizer"]!["lowercase"] = lowercase;
        return Write($"tokenizer-{lowercase}.json", json.ToJsonString());
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }
}
