namespace ClipService.OpenApi;

public static class EndpointConventions
{
    /// <summary>The problem responses every inference endpoint can give.</summary>
    public static RouteHandlerBuilder ProducesClipProblems(this RouteHandlerBuilder builder, bool uploads = true)
    {
        builder.ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return uploads ? builder.ProducesProblem(StatusCodes.Status413PayloadTooLarge) : builder;
    }
}
