namespace Treecast.Hosting;

public enum BusTransport
{
    InMemory,
    RabbitMq,
}

/// <summary>Bound from the <c>Bus</c> configuration section (environment: <c>Bus__Transport</c>, <c>Bus__RabbitMqUri</c>).</summary>
public sealed class BusOptions
{
    public const string Section = "Bus";

    public BusTransport Transport { get; set; } = BusTransport.InMemory;

    /// <summary>For example <c>amqp://guest:guest@localhost:5672/</c>.</summary>
    public string RabbitMqUri { get; set; } = "amqp://guest:guest@localhost:5672/";
}
