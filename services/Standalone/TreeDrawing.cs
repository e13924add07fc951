using Treecast.Contracts;

namespace Treecast.Standalone;

/// <summary>Draws a VMM tree as indented lines, children under their parent.</summary>
public static class TreeDrawing
{
    /// <summary>The tree of <paramref name="stripe"/> (stripe 0's, the only one of a tree of one stripe).</summary>
    public static IEnumerable<string> Lines(VmmTree tree, int stripe = 0)
    {
        var children = tree.Nodes.Where(n => n.ParentIn(stripe) is not null).ToLookup(n => n.ParentIn(stripe)!);
        var root = tree.Find(tree.RootVmmId);
        if (root is null)
        {
            yield break;
        }

        var stack = new Stack<(TreeNode Node, int Depth)>();
        stack.Push((root, 0));
        while (stack.Count > 0)
        {
            var (node, depth) = stack.Pop();
            yield return $"{new string(' ', depth * 2)}{(depth == 0 ? "" : "└ ")}{node.VmmId}  [{node.Location}]";
            foreach (var child in children[node.VmmId].Reverse())
            {
                stack.Push((child, depth + 1));
            }
        }
    }
}
