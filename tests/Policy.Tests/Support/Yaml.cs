namespace Treecast.Policy.Tests.Support;

/// <summary>Policy files used across tests.</summary>
public static class Yaml
{
    public const string Degraded = """
        policies:
          - name: broadcast-on-degraded-host
            on:
              type: host.degraded
              match:
                severity: [critical, major]
            actions:
              - broadcast:
                  fanOut: 3
                  chunkSizeKiB: 256
        """;

    public const string Stragglers = """
        policies:
          - name: duplicate-stragglers
            on:
              type: workload.started
            actions:
              - duplicateIfNotCompletedWithin:
                  deadline: 30s
                  fanOut: 4
                  chunkSizeKiB: 512
        """;

    public const string Both = Degraded + "\n" + """
          - name: duplicate-stragglers
            on:
              type: workload.started
            actions:
              - duplicateIfNotCompletedWithin:
                  deadline: 30s
                  fanOut: 4
                  chunkSizeKiB: 512
        """;
}
