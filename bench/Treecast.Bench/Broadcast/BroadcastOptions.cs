namespace Treecast.Bench.Broadcast;

/// <summary>The broadcast benchmark's options, checked before anything is created.</summary>
public sealed record BroadcastOptions(
    int[] Hosts, int[] Mbit, int ImageMiB, string Strategies, bool Tls, string Prefix, string? LogDirectory = null, string Agent = ServicePublish.ReadyToRun, string Services = ServicePublish.ReadyToRun)
{
    public string? Validate()
    {
        if (Hosts.Any(h => h is < 1 or > 64))
        {
            return $"--hosts {string.Join(' ', Hosts)}: each number of receivers must be from 1 to 64 (a star's fan-out is at most 64).";
        }

        if (Mbit.Any(m => m < 1) || ImageMiB < 1)
        {
            return $"--mbit {string.Join(' ', Mbit)} and --image-mib {ImageMiB} must be 1 or more.";
        }

        if (Prefix.Length is < 1 or > 8 || !Prefix.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
        {
            return $"--prefix '{Prefix}': use 1 to 8 lower-case letters or digits (interface names are at most 15 characters).";
        }

        try
        {
            _ = Strategies.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(BroadcastStrategy.Parse).ToList();
            return Strategies.Trim().Length == 0 ? "--strategies is empty: name at least one, for example star,f2,default." : null;
        }
        catch (FormatException e)
        {
            return e.Message;
        }
    }
}
