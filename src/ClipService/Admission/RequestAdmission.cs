using System.Globalization;
using ClipService.Diagnostics;
using ClipService.Errors;

namespace ClipService.Admission;

/// <summary>
/// Admits a request to an endpoint that encodes (images or texts) through its model's <see cref="AdmissionGate"/>
/// before the handler runs, so a refused request is answered 503 without its body being read, decoded or tokenised.
/// The refusal is written here rather than thrown: the exception path would cost more than everything else in it.
/// </summary>
public static class RequestAdmission
{
    public static RouteHandlerBuilder RequireAdmission(this RouteHandlerBuilder endpoint) =>
        endpoint.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var gate = http.RequestServices.GetRequiredService<AdmissionGates>().For(http.Request.Query["model"]);
            using var ticket = gate.TryEnter();
            if (ticket is null)
            {
                http.RequestServices.GetRequiredService<ClipMetrics>().Rejected(RejectionReasons.QueueFull);
                http.Response.Headers.RetryAfter = ((int)AdmissionGate.RetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                return TypedResults.Problem(gate.RefusalMessage, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable");
            }

            return await next(context);
        });
}
