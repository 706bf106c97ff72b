using ClipService.Core.Imaging;

namespace ClipService.Core.Tests.Imaging;

internal static class TensorDifference
{
    /// <summary>Largest and mean absolute difference in normalised units, and the share of values from equal bytes.</summary>
    public static (double Max, double Mean, double ExactBytes) Compare(float[] expected, float[] actual, PreprocessorSettings settings)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0, sum = 0;
        var exact = 0;
        var plane = expected.Length / 3;
        for (var i = 0; i < expected.Length; i++)
        {
            var d = Math.Abs(expected[i] - actual[i]);
            max = Math.Max(max, d);
            sum += d;
            // One byte step is 1/255/std ≈ 0.014 normalised; below a tenth of it the bytes were equal.
            if (d < 0.1 / 255 / settings.Std[i / plane])
                exact++;
        }

        return (max, sum / expected.Length, (double)exact / expected.Length);
    }
}
