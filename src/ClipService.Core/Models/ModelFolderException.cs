namespace ClipService.Core.Models;

/// <summary>A model folder that is missing a file or holds one that does not fit; the message names it.</summary>
public sealed class ModelFolderException : Exception
{
    public ModelFolderException(string message) : base(message) { }

    public ModelFolderException(string message, Exception inner) : base(message, inner) { }
}
