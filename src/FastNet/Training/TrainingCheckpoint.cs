namespace FastNet.Training;

/// <summary>
/// A copy of everything a training step changes: the network's parameters and the optimizer's state, step count
/// and learning rate. Restoring it and repeating the same batches gives the same bits again (training is
/// deterministic), which is how <see cref="Trainer.Fit"/> returns to the last good parameters after a divergence
/// without copying anything per step. Buffers are allocated once; <see cref="Capture"/> copies into them.
/// </summary>
internal sealed class TrainingCheckpoint
{
    private readonly float[] _parameters;
    private float[]?[] _state = [];
    private long _steps;
    private float _learningRate;

    public TrainingCheckpoint(int parameterCount) => _parameters = new float[parameterCount];

    /// <summary>Whether <see cref="Capture"/> has run.</summary>
    public bool IsSet { get; private set; }

    public void Capture(Network network, Optimizer optimizer)
    {
        network.Parameters.CopyTo(_parameters);
        float[]?[] live = optimizer.StateArrays;
        if (_state.Length != live.Length) _state = new float[]?[live.Length];
        for (int i = 0; i < live.Length; i++)
        {
            if (live[i] is not float[] array) { _state[i] = null; continue; }
            if (_state[i]?.Length != array.Length) _state[i] = new float[array.Length];
            array.CopyTo(_state[i]!, 0);
        }

        _steps = optimizer.Steps;
        _learningRate = optimizer.LearningRate;
        IsSet = true;
    }

    public void Restore(Network network, Optimizer optimizer)
    {
        _parameters.CopyTo(network.Parameters);
        float[]?[] live = optimizer.StateArrays;
        for (int i = 0; i < live.Length && i < _state.Length; i++)
        {
            if (live[i] is not float[] array) continue;
            if (_state[i] is float[] saved) saved.CopyTo(array, 0);
            else Array.Clear(array);   // allocated after the capture: its state then was all zeros
        }

        optimizer.Steps = _steps;
        optimizer.LearningRate = _learningRate;
    }
}
