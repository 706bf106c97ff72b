namespace ClipService.OpenApi;

public static class EndpointConventions
{
    /// <summary>Takes a multipart form (<typeparamref name="TForm"/>) or a JSON body (<typeparamref name="TJson"/>), each documented with its own schema.</summary>
    public static RouteHandlerBuilder AcceptsFormOrJson<TForm, TJson>(this RouteHandlerBuilder builder) where TForm : notnull =>
        builder.Accepts<TForm>("multipart/form-data", "application/json").WithMetadata(new JsonRequestBody(typeof(TJson)));

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
