using ClipService.Core.Tokenization;

namespace ClipService.Core.Tests.Tokenization;

public sealed class TokenizerWordCacheTests
{
    private static readonly BpeVocabulary s_vocabulary = BpeVocabulary.OpenAiDefault();

    // Distinct all-letter words ("aaa", "aab", ...), each one pre-token.
    private static string Word(int n) => string.Concat(Enumerable.Range(0, 4).Select(k => (char)('a' + (n / (int)Math.Pow(26, k)) % 26)));

    [Fact]
    public void The_word_cache_never_holds_more_than_its_bound_and_keeps_serving_new_words()
    {
        const int bound = 500;
        var tokenizer = new ClipTokenizer(s_vocabulary, bound);
        var reference = new ClipTokenizer(s_vocabulary, 0);
        var peak = 0;
        for (var n = 0; n < 5 * bound; n++)
        {
            var word = Word(n);
            Assert.Equal(reference.Encode(word), tokenizer.Encode(word));
            peak = Math.Max(peak, tokenizer.CachedWordCount);
        }

        Assert.Equal(bound, peak);
        // After the bound was reached the cache was emptied and refilled: the latest words are in it.
        var before = tokenizer.CachedWordCount;
        tokenizer.Encode(Word(5 * bound - 1));
        Assert.Equal(before, tokenizer.CachedWordCount);
    }

    [Fact]
    public void A_word_longer_than_real_words_is_encoded_but_not_cached()
    {
        var tokenizer = new ClipTokenizer(s_vocabulary);
        var huge = new string('x', 10_000);
        var ids = tokenizer.Encode(huge);
        Assert.Equal(0, tokenizer.CachedWordCount);
        Assert.Equal(ids, tokenizer.Encode(huge));

        tokenizer.Encode(new string('x', ClipTokenizer.MaxCachedWordLength));
        Assert.Equal(1, tokenizer.CachedWordCount);
    }
}
