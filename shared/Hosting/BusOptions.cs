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

    /// <summary>
    /// For example <c>amqp://treecast-policy:{password}@localhost:5672/</c>: each service logs in with the broker user of its
    /// role (<c>infra/rabbitmq/setup-users.sh</c> makes them).
    /// </summary>
    public string RabbitMqUri { get; set; } = "amqp://guest:guest@localhost:5672/";

    /// <summary>
    /// The broker user the bus logs in as: the user named in <see cref="RabbitMqUri"/>, or guest (MassTransit's default)
    /// when it names none. Every message the bus sends carries it as AMQP <c>user_id</c>.
    /// </summary>
    public string RabbitMqUser =>
        new Uri(RabbitMqUri).UserInfo.Split(':')[0] is { Length: > 0 } user ? Uri.UnescapeDataString(user) : "guest";
}
