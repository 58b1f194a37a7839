#:project ../src/FastNet/FastNet.csproj
#:property PublishAot=false
// I2 (and I1 at batch 1) under a Stopwatch, for before/after runs (bench/ab.sh): calls of one workload's predictor,
// median of many.
//   dotnet run -c Release bench/predict-batches.cs -- T1|T2 BATCH THREADS [REPETITIONS] [unchecked] [bf16|int8]
// A file-based app on the public API alone (NetworkBuilder, Predictor.PredictBatch and Predict), so that the same file builds
// against this revision's src/FastNet and against an older one's (bench/ab.sh copies it into a worktree of the base).
// "unchecked" turns the predictor's input check off (PredictorOptions.CheckInputs, found by reflection for that reason);
// "bf16" or "int8" stores the weights so (PredictorOptions.Precision).
using System.Diagnostics;
using FastNet;

if (args.Length < 3 || args[0] is not ("T1" or "T2"))
{
    Console.Error.WriteLine("usage: predict-batches.cs T1|T2 BATCH THREADS [REPETITIONS] [unchecked] [bf16|int8]");
    return 2;
}

int[] widths = args[0] == "T1" ? [784, 128, 10] : [784, 1024, 1024, 10];
int batch = int.Parse(args[1]), threads = int.Parse(args[2]);
int repetitions = args.Length > 3 ? int.Parse(args[3]) : 200;
bool inputChecks = !args.Skip(4).Contains("unchecked");
FastNet.Inference.Precision precision = args.Skip(4).Contains("bf16") ? FastNet.Inference.Precision.BFloat16
    : args.Skip(4).Contains("int8") ? FastNet.Inference.Precision.Int8 : FastNet.Inference.Precision.Float32;

var builder = new NetworkBuilder(widths[0]);   // the inference benchmark's models (InferenceBenchmarks.cs)
for (int l = 1; l < widths.Length - 1; l++) builder.Dense(widths[l], Activation.Relu);
Network network = builder.Dense(widths[^1]).Build(seed: 1);
using var predictor = !inputChecks ? CreateUnchecked(network)
    : precision == FastNet.Inference.Precision.Float32 ? network.CreatePredictor()
    : network.CreatePredictor(new FastNet.Inference.PredictorOptions { Precision = precision });

var rng = new Random(1);
var inputs = new float[batch * widths[0]];
for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)rng.NextDouble();
var outputs = new float[batch * widths[^1]];

long warm = Stopwatch.GetTimestamp();   // past tiered compilation (it installs optimized code after ~100 ms)
while (Stopwatch.GetElapsedTime(warm).TotalMilliseconds < 500) Call();

// Batch 1 is the I1 call, Predict (where bfloat16 and int8 weights take their batch-1 paths); larger batches PredictBatch.
void Call()
{
    if (batch == 1) predictor.Predict(inputs, outputs);
    else predictor.PredictBatch(inputs, outputs, threads);
}

int callsPerTiming = batch >= 64 ? 1 : 100;   // small batches take microseconds: time runs of calls, not one
var seconds = new double[repetitions];
for (int r = 0; r < repetitions; r++)
{
    long start = Stopwatch.GetTimestamp();
    for (int call = 0; call < callsPerTiming; call++) Call();
    seconds[r] = Stopwatch.GetElapsedTime(start).TotalSeconds / callsPerTiming;
}

Array.Sort(seconds);
double median = seconds[repetitions / 2];
string weights = precision == FastNet.Inference.Precision.Float32 ? "" : precision == FastNet.Inference.Precision.BFloat16 ? ", bf16" : ", int8";
Console.WriteLine($"{args[0]} batch {batch} on {threads} thread(s){(inputChecks ? "" : ", input checks off")}{weights}: median {median * 1e6:F2} us per batch, {batch / median:N0} samples/s (min {seconds[0] * 1e6:F2} us, max {seconds[^1] * 1e6:F2} us)");
return 0;

static FastNet.Inference.Predictor CreateUnchecked(Network network)
{
    Type options = typeof(Network).Assembly.GetType("FastNet.Inference.PredictorOptions")
        ?? throw new InvalidOperationException("This revision has no PredictorOptions: its predictor checks no inputs.");
    object unchecked_ = Activator.CreateInstance(options)!;
    options.GetProperty("CheckInputs")!.SetValue(unchecked_, false);
    return (FastNet.Inference.Predictor)typeof(Network).GetMethod("CreatePredictor", [options])!.Invoke(network, [unchecked_])!;
}
