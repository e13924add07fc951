using System.Text.Json.Nodes;
using Treecast.Contracts;

namespace Treecast.Agent.Vmm.Qemu;

/// <summary>The QEMU process that runs a VM: started with the VMs of its VMM, watched, and given up when the VM stops.</summary>
internal sealed partial class QemuVm
{
    /// <summary>
    /// Starts the VMs a VMM was created with, side by side, and returns their definition with the machine type resolved to
    /// its versioned name (so receivers load the same machine). All of them run, or none does: the first VM that cannot
    /// start fails the start with its reason, and the others are stopped.
    /// </summary>
    public static async Task<VmDefinition> StartAllAsync(
        QemuRuntime runtime, IReadOnlyList<QemuVm> vms, VmDefinition definition, CancellationToken cancellationToken)
    {
        var launches = vms.Select(vm => vm.LaunchAsync(cancellationToken)).ToList();
        try
        {
            await Task.WhenAll(launches);
        }
        catch (Exception caught)
        {
            // One refused VM fails the VMM's start: leave no QEMU of this start running.
            foreach (var launch in launches.Where(l => l.IsCompletedSuccessfully))
            {
                await launch.Result.DisposeAsync();
            }

            foreach (var vm in vms)
            {
                vm.Detach("the VMM's start failed");
            }

            var failure = launches.Select(l => l.Exception?.InnerException).OfType<Exception>().FirstOrDefault() ?? caught;
            runtime.Logger.LogError("Could not start the {VmCount} VMs of {VmmId}: {Reason}", vms.Count, runtime.VmmId, failure.Message);
            throw failure;
        }

        // In the VMs first: from here on, whatever fails, the VMM's disposal finds and stops these QEMUs.
        var processes = launches.Select(l => l.Result).ToList();
        foreach (var (vm, process) in vms.Zip(processes))
        {
            vm.Run(process);
        }

        definition = definition with { MachineType = await ResolveMachineTypeAsync(processes[0], definition.MachineType, cancellationToken) };
        foreach (var vm in vms)
        {
            vm.Redefine(definition);
        }

        await Task.WhenAll(vms.Zip(processes).Select(pair => pair.First.WaitForGuestAsync(pair.Second, cancellationToken)));
        return definition;
    }

    /// <summary>Starts the VM's QEMU and lets its guest run; a VM that cannot start keeps the reason.</summary>
    private async Task<QemuProcess> LaunchAsync(CancellationToken cancellationToken)
    {
        try
        {
            var definition = Definition;
            _runtime.Validate(VmId, definition);
            var process = await _runtime.StartProcessAsync(VmId, definition, incoming: false, cancellationToken);
            try
            {
                // Sources save their state as fast as the socket takes it; QEMU's default caps a migration at 32 MiB/s.
                await process.ExecuteAsync("migrate-set-parameters", new JsonObject { ["max-bandwidth"] = long.MaxValue / 2 }, cancellationToken);
                await process.ExecuteAsync("cont", null, cancellationToken);
                return process;
            }
            catch
            {
                await process.DisposeAsync();
                throw;
            }
        }
        catch (Exception e)
        {
            lock (_gate)
            {
                _failure = e.Message;
            }

            throw;
        }
    }

    /// <summary>Runs the VM in the QEMU <see cref="LaunchAsync"/> started, and watches it for an exit nobody asked for.</summary>
    private void Run(QemuProcess process)
    {
        lock (_gate)
        {
            _process = process;
            _state = VmState.Running;
        }

        _ = WatchAsync(process);
    }

    /// <summary>
    /// The VM is stopped (its QEMU going, or never started; <paramref name="reason"/> is kept unless an earlier one was):
    /// returns the QEMU it had, for the caller to stop.
    /// </summary>
    private QemuProcess? Detach(string? reason = null)
    {
        lock (_gate)
        {
            var process = _process;
            _process = null;
            _state = VmState.Stopped;
            _failure ??= reason;
            return process;
        }
    }

    /// <summary>Stops the VM's QEMU, if it has one; true when it had.</summary>
    public async Task<bool> StopAsync()
    {
        if (Detach() is not { } process)
        {
            return false;
        }

        await process.DisposeAsync();
        return true;
    }

    /// <summary>Takes the definition with the machine type QEMU resolved, so receivers load the same machine.</summary>
    private void Redefine(VmDefinition definition)
    {
        lock (_gate)
        {
            _definition = definition;
        }
    }

    private async Task WatchAsync(QemuProcess process)
    {
        await process.Exited;
        if (process.IsStopping)
        {
            return;
        }

        lock (_gate)
        {
            if (_process != process)
            {
                return;
            }

            _process = null;
            _state = VmState.Stopped;
            _failure = process.ExitDescription;
        }

        _runtime.Logger.LogError("VM {VmId} on {VmmId} stopped unexpectedly: {Reason}", VmId, VmmId, process.ExitDescription);
        await process.DisposeAsync();
    }

    private static async Task<string> ResolveMachineTypeAsync(QemuProcess process, string machineType, CancellationToken cancellationToken)
    {
        var machines = await process.ExecuteAsync("query-machines", null, cancellationToken);
        foreach (var machine in machines.EnumerateArray())
        {
            if (machine.TryGetProperty("alias", out var alias) && alias.GetString() == machineType && machine.TryGetProperty("name", out var name))
            {
                return name.GetString() ?? machineType;
            }
        }

        return machineType;
    }
}
