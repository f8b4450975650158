namespace Opsmeter.Samples.ChatApp;

/// <summary>Why the sample cannot go on, in words for the person who ran it (no stack trace).</summary>
internal sealed class SampleFailure(string message) : Exception(message);
