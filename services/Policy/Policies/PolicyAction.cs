using System.Text.Json.Serialization;

namespace Treecast.Policy.Policies;

/// <summary>What a matching policy does. The JSON form (the API) names the kind as in the YAML file.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(BroadcastAction), PolicyActionNames.Broadcast)]
[JsonDerivedType(typeof(DuplicateIfNotCompletedWithinAction), PolicyActionNames.DuplicateIfNotCompletedWithin)]
/// <param name="Stripes">Stripe trees the broadcast uses; 0 leaves it to topology's default.</param>
public abstract record PolicyAction(int FanOut, int ChunkSizeKiB, int Stripes = 0)
{
    public int ChunkSizeBytes => ChunkSizeKiB * 1024;
}
