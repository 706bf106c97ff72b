namespace ClipService.Core.Encoders;

/// <summary>The configured execution provider could not be used and falling back was not allowed.</summary>
public sealed class ExecutionProviderException(string message, Exception inner) : Exception(message, inner);
