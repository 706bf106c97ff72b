namespace ClipService.Admission;

/// <summary>
/// Admits an image endpoint's request through its model's <see cref="AdmissionGate"/> before the handler runs,
/// so a refused request is answered 503 without its body being read, decoded or tokenised.
/// </summary>
public static class ImageAdmission
{
    public static RouteHandlerBuilder RequireImageAdmission(this RouteHandlerBuilder endpoint) =>
        endpoint.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var gate = http.RequestServices.GetRequiredService<AdmissionGates>().For(http.Request.Query["model"]);
            using var ticket = gate.Enter();
            return await next(context);
        });
}
