namespace ClipService.Tests;

/// <summary>One service on the default model, shared by a test class (its tests only read from it).</summary>
public sealed class DefaultService : IAsyncLifetime
{
    public ClipServiceFactory Factory { get; } = new();
    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync() => Client = await Factory.ReadyClientAsync();

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
    }
}
