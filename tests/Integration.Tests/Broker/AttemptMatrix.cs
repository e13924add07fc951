namespace Treecast.Integration.Tests.Broker;

/// <summary>Theory data for attacks: every account against every target.</summary>
public static class AttemptMatrix
{
    public static TheoryData<string, string> Of(IEnumerable<string> accounts, IEnumerable<string> targets)
    {
        var data = new TheoryData<string, string>();
        foreach (var account in accounts)
        {
            foreach (var target in targets)
            {
                data.Add(account, target);
            }
        }

        return data;
    }
}
