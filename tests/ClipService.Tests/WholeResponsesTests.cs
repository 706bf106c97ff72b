using System.Net;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

/// <summary>
/// Answers go out whole, with a Content-Length (Hosting/WholeResponses): a load balancer can retry a killed replica's
/// request only while the replica has sent nothing, and a chunked answer goes out in two sends (the closing chunk
/// last). Kestrel's framing is seen only over a real socket, so this runs the service as a process.
/// </summary>
public sealed class WholeResponsesTests
{
    [Fact]
    public async Task A_classification_is_sent_with_its_content_length_not_chunked()
    {
        await using var service = await ServiceProcess.StartReadyAsync(
            [$"--Clip:ModelsPath={Path.Combine(ClipServiceFactory.TestModels, "tiny-clip")}", "--Clip:PrecomputeLabelSets=false"]);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var form = Form(TestImages.Shape("red", "circle"), ("labels", "red circle"), ("labels", "blue star"));
        using var response = await http.PostAsync(new Uri(service.Address, "/classify"), form);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotEqual(true, response.Headers.TransferEncodingChunked);
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
    }
}
