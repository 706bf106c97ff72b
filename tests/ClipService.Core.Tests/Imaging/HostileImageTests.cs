using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using ClipService.Core.Imaging;
using Xunit.Abstractions;

namespace ClipService.Core.Tests.Imaging;

/// <summary>
/// Hostile images straight through the decoder: compressed-chunk bombs, truncations at many offsets, and a seeded
/// fuzz run per format. Every one is decoded or refused with a typed problem — never another exception.
/// </summary>
public sealed class HostileImageTests(ITestOutputHelper output)
{
    private static byte[] Image(string name) => File.ReadAllBytes(TestPaths.Asset("images", name));

    private static readonly string[] Formats = ["photo.jpg", "photo_progressive.jpg", "transparent.png", "lossy.webp", "lossless.webp", "palette.gif", "bitmap.bmp", "icon.ico"];

    // Decodes or refuses: either is fine, anything but InvalidImageException escaping is a bug (a 500 in the service).
    private static ImageProblem? Outcome(ClipImageDecoder decoder, byte[] encoded)
    {
        try
        {
            decoder.Decode(encoded).Dispose();
            return null;
        }
        catch (InvalidImageException e)
        {
            return e.Problem;
        }
    }

    [Theory]
    [InlineData("zTXt")]
    [InlineData("iTXt")]
    [InlineData("iCCP")]
    public void A_png_whose_compressed_chunk_inflates_to_256_MB_is_not_inflated(string chunk)
    {
        var bomb = PngWithCompressedChunk(Image("transparent.png"), chunk);
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        var outcome = Outcome(new ClipImageDecoder(), bomb);
        watch.Stop();
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        output.WriteLine($"{chunk} bomb of {bomb.Length:N0} bytes: {outcome?.ToString() ?? "decoded"} in {watch.ElapsedMilliseconds} ms wall, {cpu.TotalMilliseconds:F0} ms CPU");
        // Inflating 256 MB takes about a second of CPU even on a fast core; a decoder that skips (or caps) the
        // chunk spends a few milliseconds. The bound sits far between the two.
        Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(500), $"{chunk}: {watch.ElapsedMilliseconds} ms — the chunk was inflated");
    }

    [Theory]
    [MemberData(nameof(FormatNames))]
    public void Truncation_at_any_of_64_offsets_is_refused_as_corrupt_or_decodes(string name)
    {
        var whole = Image(name);
        var decoder = new ClipImageDecoder();
        var accepted = 0;
        for (var i = 1; i <= 64; i++)
        {
            var length = (int)((long)whole.Length * i / 65);
            var outcome = Outcome(decoder, whole[..length]);
            Assert.True(outcome is null or ImageProblem.Corrupt or ImageProblem.UnsupportedFormat, $"{name} cut at {length}: {outcome}");
            if (outcome is null)
                accepted++;
        }

        output.WriteLine($"{name}: {accepted} of 64 truncations decoded");
        // A truncated image is refused by default; only a cut inside trailing metadata may still decode.
        Assert.True(accepted <= 4, $"{name}: {accepted} truncated copies decoded");
    }

    [Theory]
    [MemberData(nameof(FormatNames))]
    public void Fifty_seeded_mutations_per_format_decode_or_are_refused_with_a_typed_problem(string name)
    {
        var whole = Image(name);
        var random = new Random(13 + name.Length * 7919 + whole.Length); // fixed: HashCode.Combine is seeded per process
        var decoder = new ClipImageDecoder();
        var refused = 0;
        for (var i = 0; i < 50; i++)
        {
            var mutated = (byte[])whole.Clone();
            // A few random bytes anywhere past the signature, like a corrupted transfer or a crafted header.
            var changes = 1 + random.Next(8);
            for (var c = 0; c < changes; c++)
                mutated[8 + random.Next(mutated.Length - 8)] = (byte)random.Next(256);
            if (Outcome(decoder, mutated) is not null)
                refused++;
        }

        output.WriteLine($"{name}: {refused} of 50 mutations refused");
    }

    [Fact]
    public void An_animated_gif_gives_its_first_frame()
    {
        using var first = new ClipImageDecoder().Decode(TwoFrameGif());
        Assert.Equal((2, 1), (first.Width, first.Height));
        // Frame 1 is red on both pixels, frame 2 (drawn over it) blue: the first frame's pixels come back.
        Assert.Equal(new byte[] { 255, 0, 0, 255, 255, 0, 0, 255 }, first.Pixels[..8].ToArray());
    }

    public static TheoryData<string> FormatNames() => [.. Formats];

    // A GIF89a of 2 × 1 pixels, two frames: a palette of red and blue, frame 1 all index 0, frame 2 all index 1.
    private static byte[] TwoFrameGif() => Convert.FromHexString(
        "474946383961" + "02000100" + "800000" + "FF0000" + "0000FF"
        + "21F9040400000000" + "2C000000000200010000" + "02" + "02040A" + "00"
        + "21F9040400000000" + "2C000000000200010000" + "02" + "024C0A" + "00" + "3B");

    // 256 MB of zeros, deflated once for all three chunk types.
    private static readonly Lazy<byte[]> Inflates256Megabytes = new(() =>
    {
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var zeros = new byte[1 << 20];
            for (var i = 0; i < 256; i++)
                zlib.Write(zeros);
        }

        return compressed.ToArray();
    });

    // The PNG with one more chunk after IHDR whose compressed payload inflates to 256 MB of zeros.
    private static byte[] PngWithCompressedChunk(byte[] png, string type)
    {
        // zTXt: keyword NUL method; iTXt: keyword NUL flag method language NUL translated NUL; iCCP: name NUL method.
        byte[] prefix = type switch
        {
            "zTXt" => [.. "Comment"u8, 0, 0],
            "iTXt" => [.. "Comment"u8, 0, 1, 0, 0, 0],
            _ => [.. "icc"u8, 0, 0],
        };
        byte[] data = [.. prefix, .. Inflates256Megabytes.Value];
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(chunk, data.Length);
        System.Text.Encoding.ASCII.GetBytes(type, chunk.AsSpan(4));
        data.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32(chunk.AsSpan(4, 4 + data.Length)));
        const int afterHeader = 8 + 25; // signature + IHDR chunk
        return [.. png[..afterHeader], .. chunk, .. png[afterHeader..]];
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }

        return ~crc;
    }
}
