using Microsoft.Extensions.Options;

namespace ClipService.Inference;

/// <summary>Source-generated checks of the Inference, Batching and TextCache sections, run at start.</summary>
[OptionsValidator]
public sealed partial class InferenceOptionsValidator : IValidateOptions<InferenceOptions>;

[OptionsValidator]
public sealed partial class BatchingOptionsValidator : IValidateOptions<BatchingOptions>;

[OptionsValidator]
public sealed partial class TextCacheOptionsValidator : IValidateOptions<TextCacheOptions>;
