namespace ClipService.Core.Tokenization;

/// <summary>
/// GPT-2's reversible map from bytes to printable characters, which CLIP's BPE symbols are written in:
/// printable Latin-1 bytes stand for themselves, the others take the code points from 256 upwards.
/// </summary>
internal static class ByteEncoder
{
    private static readonly string[] s_byteToSymbol = BuildByteToSymbol();

    /// <summary>The 256 symbols in OpenAI's vocabulary order: printable bytes first, then the others.</summary>
    public static IReadOnlyList<string> Symbols { get; } =
        [.. Enumerable.Range(0, 256).Where(IsPrintable).Select(b => s_byteToSymbol[b]),
         .. Enumerable.Range(0, 256).Where(b => !IsPrintable(b)).Select(b => s_byteToSymbol[b])];

    public static string Symbol(byte b) => s_byteToSymbol[b];

    private static string[] BuildByteToSymbol()
    {
        var symbols = new string[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
            symbols[b] = ((char)(IsPrintable(b) ? b : next++)).ToString();
        return symbols;
    }

    private static bool IsPrintable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
}
