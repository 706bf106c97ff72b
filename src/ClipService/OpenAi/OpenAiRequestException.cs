using ClipService.Errors;

namespace ClipService.OpenAi;

/// <summary>400 on /v1: an invalid field, named in the error's <c>param</c>.</summary>
public sealed class OpenAiRequestException(string param, string message)
    : ClientErrorException(StatusCodes.Status400BadRequest, "Invalid request", message)
{
    public string Param { get; } = param;
}
