namespace ClipService.Hosting;

/// <summary>
/// Sends the answer of every POST (the pure endpoints: /classify, /classify/batch, /embed/*, /v1/embeddings) as one
/// write with a Content-Length. Written as it is produced, an answer goes out chunked: its headers and body in one
/// send, the closing chunk in another. A replica killed between the two leaves the load balancer a started, cut
/// answer it can no longer retry (HAProxy logs SD--); in one write, a kill comes before the answer (retried on
/// another replica) or after it (delivered). The answers are kilobytes, so holding one costs little.
/// </summary>
internal static class WholeResponses
{
    public static IApplicationBuilder UseWholeResponses(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (!HttpMethods.IsPost(context.Request.Method))
            {
                await next(context);
                return;
            }

            var original = context.Response.Body;
            using var buffer = new MemoryStream();
            context.Response.Body = buffer;
            try
            {
                await next(context);
            }
            finally
            {
                // On an exception the handler outside writes its problem details to the connection itself.
                context.Response.Body = original;
            }

            if (buffer.Length == 0)
                return;
            context.Response.ContentLength = buffer.Length;
            buffer.Position = 0;
            await buffer.CopyToAsync(original, context.RequestAborted);
        });
}
