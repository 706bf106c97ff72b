using System.Globalization;

namespace ClipService.Evaluation;

/// <summary>One column of the grid: how the labels are put into prompts.</summary>
/// <param name="Template">One template with {}; null with <paramref name="Ensemble"/> or for the family's default.</param>
/// <param name="Ensemble">A named template set (imagenet7, imagenet80) whose prompts are averaged.</param>
public sealed record TemplateChoice(string? Template, string? Ensemble)
{
    public static readonly TemplateChoice Default = new(null, null);

    public string Name => Template ?? Ensemble ?? "default";
}

/// <summary>What <c>evaluate</c> was asked to do.</summary>
public sealed record EvaluationArguments
{
    public const string ClassifyTask = "classify";
    public const string RetrievalTask = "retrieval";

    public required string Data { get; init; }
    public IReadOnlyList<string> Models { get; init; } = [];
    public IReadOnlyList<TemplateChoice> Templates { get; init; } = [TemplateChoice.Default];
    public string? Out { get; init; }
    public int TopK { get; init; } = 5;
    public int? LimitPerClass { get; init; }
    public int Seed { get; init; }
    public string Task { get; init; } = ClassifyTask;
    public Uri? Url { get; init; }
    public string? ApiKey { get; init; }
    public int Concurrency { get; init; } = 16;

    /// <summary>With --url: how long one request may take before the run stops.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>--Clip:Setting=value arguments, for the in-process service.</summary>
    public IReadOnlyList<string> Settings { get; init; } = [];

    /// <summary>The arguments, or why they are wrong (one line).</summary>
    public static (EvaluationArguments? Arguments, string? Error) Parse(IReadOnlyList<string> args)
    {
        string? data = null, output = null, task = null, apiKey = null;
        Uri? url = null;
        int topK = 5, seed = 0, concurrency = 16, timeout = 60;
        int? limit = null;
        var models = new List<string>();
        var templates = new List<TemplateChoice>();
        var settings = new List<string>();
        var given = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name.StartsWith("--", StringComparison.Ordinal) && name.Contains(':', StringComparison.Ordinal))
            {
                settings.Add(name);
                continue;
            }

            if (name is not ("--data" or "--model" or "--template" or "--templates" or "--out" or "--top-k" or "--limit-per-class"
                or "--seed" or "--task" or "--url" or "--api-key" or "--concurrency" or "--timeout"))
                return (null, $"unknown argument '{name}'");
            if (name is not ("--model" or "--template" or "--templates") && !given.Add(name))
                return (null, $"{name} is given twice");
            if (i + 1 >= args.Count || args[i + 1].Length == 0)
                return (null, $"{name} needs a value");
            var value = args[++i];
            switch (name)
            {
                case "--data": data = value; break;
                case "--model": models.Add(value); break;
                case "--template" when !value.Contains("{}", StringComparison.Ordinal):
                    return (null, $"--template '{value}' has no {{}} where the label goes");
                case "--template": templates.Add(new TemplateChoice(value, null)); break;
                case "--templates": templates.Add(new TemplateChoice(null, value)); break;
                case "--out": output = value; break;
                case "--top-k" when !TryPositive(value, out topK):
                case "--limit-per-class" when !TryPositive(value, out var _):
                case "--concurrency" when !TryPositive(value, out concurrency) || concurrency > 256:
                case "--timeout" when !TryPositive(value, out timeout) || timeout > 3600:
                    return (null, $"{name} must be a whole number from 1{name switch { "--concurrency" => " to 256", "--timeout" => " to 3600 (seconds)", _ => "" }}, not '{value}'");
                case "--limit-per-class": limit = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--top-k" or "--concurrency" or "--timeout": break;
                case "--seed" when !int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out seed):
                    return (null, $"--seed must be a whole number, not '{value}'");
                case "--seed": break;
                case "--task" when value is not (ClassifyTask or RetrievalTask):
                    return (null, $"--task must be {ClassifyTask} or {RetrievalTask}, not '{value}'");
                case "--task": task = value; break;
                case "--url" when !Uri.TryCreate(value, UriKind.Absolute, out url) || url.Scheme is not ("http" or "https"):
                    return (null, $"--url must be an http(s) address such as http://localhost:8080, not '{value}'");
                case "--url": break;
                case "--api-key": apiKey = value; break;
            }
        }

        if (data is null)
            return (null, "--data DIR is required (an ImageFolder or a manifest)");
        if (apiKey is not null && url is null)
            return (null, "--api-key goes with --url (in process, no key is needed)");
        if (given.Contains("--timeout") && url is null)
            return (null, "--timeout goes with --url");
        if (url is not null && settings.Count > 0)
            return (null, $"--Clip settings apply in process; with --url the deployment's own settings apply ('{settings[0]}')");
        if (task == RetrievalTask && templates.Any(t => t.Ensemble is not null))
            return (null, "--templates (an ensemble) applies to classification; retrieval takes --template or none");
        return (new EvaluationArguments
        {
            Data = data,
            Models = models.Distinct(StringComparer.Ordinal).ToList(),
            Templates = templates.Count == 0 ? [TemplateChoice.Default] : templates.Distinct().ToList(),
            Out = output,
            TopK = topK,
            LimitPerClass = limit,
            Seed = seed,
            Task = task ?? ClassifyTask,
            Url = url,
            ApiKey = apiKey ?? (url is null ? null : Environment.GetEnvironmentVariable("CLIP_API_KEY") is { Length: > 0 } key ? key : null),
            Concurrency = concurrency,
            Timeout = TimeSpan.FromSeconds(timeout),
            Settings = settings,
        }, null);
    }

    private static bool TryPositive(string value, out int parsed) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out parsed) && parsed >= 1;
}
