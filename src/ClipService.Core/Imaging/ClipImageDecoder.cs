using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ClipService.Core.Imaging;

/// <summary>
/// Defensive decoding of uploads to upright 8-bit RGB: only JPEG, PNG, WebP, BMP and GIF (first frame);
/// the header is read first and images over the pixel cap are refused before any pixel is decoded;
/// allocations are capped; EXIF orientation is applied. Alpha is dropped without compositing, grey is
/// replicated and palettes are expanded, as PIL's <c>convert("RGB")</c> does. Thread-safe.
/// </summary>
public sealed class ClipImageDecoder
{
    public static readonly IReadOnlyList<string> SupportedFormats = ["JPEG", "PNG", "WebP", "BMP", "GIF"];

    private readonly Configuration _configuration;
    private readonly long _maxPixels;

    public ClipImageDecoder(ImageDecodingOptions? options = null)
    {
        options ??= new ImageDecodingOptions();
        _maxPixels = options.MaxPixels;
        _configuration = new Configuration(
            new JpegConfigurationModule(), new PngConfigurationModule(), new WebpConfigurationModule(),
            new BmpConfigurationModule(), new GifConfigurationModule())
        {
            MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions
            {
                AllocationLimitMegabytes = options.AllocationLimitMegabytes,
            }),
        };
        _configuration.ImageFormatsManager.SetDecoder(GifFormat.Instance, new GifDecoder { DecodingMode = FrameDecodingMode.First });
    }

    public Image<Rgb24> Decode(ReadOnlySpan<byte> encoded)
    {
        if (encoded.IsEmpty)
            throw new InvalidImageException(ImageProblem.Corrupt, "The image is empty (0 bytes).");

        // Identify needs an array; the decoder below reads the same bytes.
        var bytes = encoded.ToArray();
        IImageInfo? info;
        IImageFormat? format;
        try
        {
            info = Image.Identify(_configuration, bytes, out format);
        }
        catch (Exception e) when (e is InvalidImageContentException or ImageFormatException or NotSupportedException)
        {
            throw new InvalidImageException(ImageProblem.Corrupt, $"The image header could not be read: {e.Message}", e);
        }

        if (info is null || format is null)
            throw new InvalidImageException(ImageProblem.UnsupportedFormat,
                $"The upload is not an image in a supported format ({string.Join(", ", SupportedFormats)}).");
        if (info.Width <= 0 || info.Height <= 0)
            throw new InvalidImageException(ImageProblem.Corrupt, $"The {format.Name} header gives a size of {info.Width}×{info.Height}.");
        if ((long)info.Width * info.Height > _maxPixels)
            throw new InvalidImageException(ImageProblem.TooLarge,
                $"The image is {info.Width}×{info.Height} pixels; at most {_maxPixels:N0} pixels are accepted.");

        try
        {
            var image = Image.Load<Rgb24>(_configuration, bytes);
            image.Mutate(x => x.AutoOrient());
            return image;
        }
        catch (InvalidMemoryOperationException e)
        {
            throw new InvalidImageException(ImageProblem.TooLarge, "Decoding the image needs more memory than the service allows.", e);
        }
        catch (Exception e) when (e is InvalidImageContentException or ImageFormatException or NotSupportedException
                                      or UnknownImageFormatException or IndexOutOfRangeException or ArgumentException)
        {
            throw new InvalidImageException(ImageProblem.Corrupt, $"The {format.Name} image is corrupt or truncated: {e.Message}", e);
        }
    }
}
