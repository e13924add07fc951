using Treecast.Hosting.ApiAccess;

namespace Treecast.Policy.Tests.Api;

public sealed class ApiAccessOptionsTests
{
    [Fact]
    public void A_short_key_is_a_problem_that_names_the_setting_and_the_fix()
    {
        var options = new ApiAccessOptions { Keys = { ["ops"] = "secret" } };

        var problem = Assert.Single(options.Problems());

        Assert.Contains("Api__Keys__ops", problem, StringComparison.Ordinal);
        Assert.Contains("openssl rand -hex 24", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Long_keys_and_no_keys_are_both_usable()
    {
        Assert.Empty(new ApiAccessOptions().Problems());
        Assert.Empty(new ApiAccessOptions { Keys = { ["ops"] = "0123456789abcdef" } }.Problems());
    }
}
