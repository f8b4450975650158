using Opsmeter.Web.Features.Usage;

namespace Opsmeter.UnitTests.Features.Usage;

public sealed class FinishedSumsTests
{
    private static FinishedSums Part(params (string Key, long Requests, decimal Cost)[] rows) =>
        new([.. rows.Select(r => r.Key)], new Dictionary<string, Array>
        {
            ["requests"] = rows.Select(r => r.Requests).ToArray(),
            ["cost_usd"] = rows.Select(r => r.Cost).ToArray(),
        });

    private static Dictionary<string, (long Requests, decimal Cost)> Rows(FinishedSums sums) =>
        sums.Keys.Select((key, i) => (key, i)).ToDictionary(k => k.key,
            k => (((long[])sums.Columns["requests"])[k.i], ((decimal[])sums.Columns["cost_usd"])[k.i]));

    [Fact]
    public void Parts_add_up_per_group_with_subtracted_events_and_groups_only_some_parts_hold()
    {
        var sum = FinishedSums.Sum([
            Part(("alice", 3, 0.30m), ("bob", 1, 0.0000000001m)),
            Part(("bob", 2, 1.25m), ("carol", 7, 2m)),
            Part(("alice", -1, -0.10m)), // folded events subtracted from a daily row
        ]);

        Assert.Equal(new Dictionary<string, (long, decimal)>
        {
            ["alice"] = (2, 0.20m), ["bob"] = (3, 1.2500000001m), ["carol"] = (7, 2m),
        }, Rows(sum));
    }

    [Fact]
    public void More_groups_between_the_parts_than_an_entry_keeps_are_not_kept()
    {
        var half = FinishedSums.MaxGroups / 2 + 1;
        var sum = FinishedSums.Sum([
            Part([.. Enumerable.Range(0, half).Select(i => ($"a{i}", 1L, 1m))]),
            Part([.. Enumerable.Range(0, half).Select(i => ($"b{i}", 1L, 1m))]),
        ]);

        Assert.Same(FinishedSums.TooMany, sum);
    }
}
