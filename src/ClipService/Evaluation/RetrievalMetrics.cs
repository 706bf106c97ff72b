using System.Numerics.Tensors;

namespace ClipService.Evaluation;

/// <summary>
/// Image-text retrieval recall@k as clip_benchmark computes it: an image is found at k when one of its captions is
/// among the k captions most similar to it, and a caption when its image is among the k images most similar to it.
/// An item's rank counts only the candidates scoring strictly higher, so ties do not depend on order.
/// </summary>
public static class RetrievalMetrics
{
    public static readonly int[] Ks = [1, 5, 10];

    /// <param name="images">L2-normalised image embeddings.</param>
    /// <param name="captions">L2-normalised caption embeddings.</param>
    /// <param name="imageOfCaption">For each caption, the index of its image.</param>
    /// <returns>The recalls, and for each image the rank (0-based) of its best-placed caption and the index of the caption ranked first.</returns>
    public static (RecallAtK ImageToText, RecallAtK TextToImage, (int Rank, int Best)[] Images) Recall(IReadOnlyList<float[]> images, IReadOnlyList<float[]> captions, IReadOnlyList<int> imageOfCaption)
    {
        var similarity = new float[images.Count][];
        for (var i = 0; i < images.Count; i++)
        {
            similarity[i] = new float[captions.Count];
            for (var c = 0; c < captions.Count; c++)
                similarity[i][c] = TensorPrimitives.Dot(images[i], captions[c]);
        }

        var imageHits = new int[Ks.Length];
        var perImage = new (int Rank, int Best)[images.Count];
        for (var i = 0; i < images.Count; i++)
        {
            var best = int.MaxValue;
            for (var c = 0; c < captions.Count; c++)
                if (imageOfCaption[c] == i)
                    best = Math.Min(best, StrictlyHigher(similarity[i], similarity[i][c]));
            Count(imageHits, best);
            perImage[i] = (best, captions.Count == 0 ? 0 : Array.IndexOf(similarity[i], similarity[i].Max()));
        }

        var captionHits = new int[Ks.Length];
        var column = new float[images.Count];
        for (var c = 0; c < captions.Count; c++)
        {
            for (var i = 0; i < images.Count; i++)
                column[i] = similarity[i][c];
            Count(captionHits, StrictlyHigher(column, column[imageOfCaption[c]]));
        }

        return (Shares(imageHits, images.Count), Shares(captionHits, captions.Count), perImage);
    }

    private static int StrictlyHigher(float[] scores, float score)
    {
        var higher = 0;
        foreach (var s in scores)
            higher += s > score ? 1 : 0;
        return higher;
    }

    private static void Count(int[] hits, int rank)
    {
        for (var k = 0; k < Ks.Length; k++)
            hits[k] += rank < Ks[k] ? 1 : 0;
    }

    private static RecallAtK Shares(int[] hits, int total) =>
        total == 0 ? new RecallAtK(0, 0, 0) : new RecallAtK((double)hits[0] / total, (double)hits[1] / total, (double)hits[2] / total);
}
