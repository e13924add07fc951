using System.Text.Json;
using Treecast.Contracts;
using Treecast.Policy.Evaluation;
using Treecast.Policy.Policies;

namespace Treecast.Policy.Tests.Evaluation;

public sealed class When_an_external_event_is_read
{
    [Theory]
    [InlineData(null, "host-01", null, "type", "the event has no 'type' (set \"type\" to one of host.degraded")]
    [InlineData("host.exploded", "host-01", null, "type", "unknown event type 'host.exploded' (set \"type\" to one of")]
    [InlineData("host.degraded", " ", null, "vmm", "a 'host.degraded' event has no 'vmm' (set \"vmm\" to the id of the VMM")]
    [InlineData("workload.started", "host-01", null, "workloadId", "a 'workload.started' event has no 'workloadId'")]
    public void Should_name_the_field_and_the_fix_of_a_malformed_event(string? type, string? vmm, string? workloadId, string field, string message)
    {
        var ex = Assert.Throws<MalformedExternalEventException>(() =>
            ObservedEvent.FromExternal(new ExternalEvent { Type = type, Vmm = vmm, WorkloadId = workloadId }));

        Assert.Equal(field, ex.Field);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_canonicalise_the_type_and_read_attributes_as_strings()
    {
        var observed = ObservedEvent.FromExternal(new ExternalEvent
        {
            Type = "Host.Degraded",
            Vmm = "host-01",
            Attributes = new()
            {
                ["rack"] = JsonSerializer.SerializeToElement("r7"),
                ["load"] = JsonSerializer.SerializeToElement(3),
                ["drained"] = JsonSerializer.SerializeToElement(true),
                ["nothing"] = JsonSerializer.SerializeToElement<string?>(null),
            },
        });

        Assert.Equal(EventTypes.HostDegraded, observed.Type);
        Assert.Equal("r7", observed.Field("attributes.RACK"));
        Assert.Equal("3", observed.Field("attributes.load"));
        Assert.Equal("true", observed.Field("attributes.drained"));
        Assert.Null(observed.Field("attributes.nothing"));
    }
}
