using System.Buffers;
using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Text.Json;
using FastNet.Serving;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FastNet.Service;

/// <summary>A prediction: the class, its label, every class's probability, and which model version answered.</summary>
public sealed record Prediction(int Class, string? Label, float[] Probabilities, long ModelVersion);

/// <summary>
/// POST /predict: the body is the input, a JSON array of numbers (application/json) or little-endian float32 values
/// (application/octet-stream). A wrong size, NaN or infinity, a malformed or oversized body get a 400 (413, 415)
/// with an RFC 7807 problem body saying what is wrong; no exception text or stack trace reaches the client.
/// </summary>
internal static class PredictionEndpoints
{
    public static async Task<IResult> Predict(HttpContext context, IPredictionBackend backend)
    {
        int inputs = backend.InputSize;
        float[] input = ArrayPool<float>.Shared.Rent(inputs);
        try
        {
            IResult? problem = await ReadInput(context.Request, input.AsMemory(0, inputs), inputs);
            if (problem is not null) return problem;
            int bad = IndexOfNonFinite(input.AsSpan(0, inputs));
            if (bad >= 0) return Problem(StatusCodes.Status400BadRequest, "Not a finite number", $"Feature {bad} is {input[bad]}: every input must be a finite number.");

            var outputs = new float[backend.OutputSize];
            long version = await backend.PredictAsync(input.AsMemory(0, inputs), outputs);
            ToProbabilities(outputs, backend.OutputTransform);
            int predicted = TensorPrimitives.IndexOfMax(outputs);
            return TypedResults.Ok(new Prediction(predicted, backend.ClassLabels?[predicted], outputs, version));
        }
        catch (ArithmeticException)
        {
            return Problem(StatusCodes.Status422UnprocessableEntity, "No finite prediction", "The model's outputs for this input are not finite.");
        }
        finally
        {
            ArrayPool<float>.Shared.Return(input);
        }
    }

    /// <summary>Reads the body into <paramref name="input"/>; returns the problem to answer, or null when it holds exactly the input.</summary>
    private static async Task<IResult?> ReadInput(HttpRequest request, Memory<float> input, int inputs)
    {
        string mediaType = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant() ?? "";
        try
        {
            switch (mediaType)
            {
                case "application/json":
                {
                    float[]? values;
                    try
                    {
                        values = await JsonSerializer.DeserializeAsync(request.Body, ServiceJson.Default.SingleArray, request.HttpContext.RequestAborted);
                    }
                    catch (JsonException e)
                    {
                        return Problem(StatusCodes.Status400BadRequest, "Malformed JSON", $"The body must be a JSON array of {inputs} numbers ({Plain(e.Message)}).");
                    }

                    if (values is null || values.Length != inputs)
                        return Problem(StatusCodes.Status400BadRequest, "Wrong input size", $"The body must be a JSON array of {inputs} numbers; it has {values?.Length.ToString() ?? "null"}.");
                    values.CopyTo(input);
                    return null;
                }
                case "application/octet-stream":
                {
                    int expected = inputs * sizeof(float);
                    byte[] bytes = ArrayPool<byte>.Shared.Rent(expected + 1);
                    try
                    {
                        int read = 0, n;
                        while (read < bytes.Length && (n = await request.Body.ReadAsync(bytes.AsMemory(read), request.HttpContext.RequestAborted)) > 0) read += n;
                        if (read != expected)
                            return Problem(StatusCodes.Status400BadRequest, "Wrong input size",
                                $"The body must be {inputs} little-endian float32 values ({expected} bytes); it has {(read > expected ? "more" : read.ToString())} bytes.");
                        for (int i = 0; i < inputs; i++) input.Span[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(4 * i));
                        return null;
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(bytes);
                    }
                }
                default:
                    return Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported content type",
                        $"Send {inputs} numbers as application/json (an array) or application/octet-stream (little-endian float32), not '{mediaType}'.");
            }
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's body limit (413) and malformed requests.
            return Problem(e.StatusCode, e.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Body too large" : "Bad request", e.Message);
        }
    }

    private static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        if (TensorPrimitives.IsFiniteAll(values)) return -1;
        for (int i = 0; i < values.Length; i++) if (!float.IsFinite(values[i])) return i;
        return -1;
    }

    /// <summary>The outputs as probabilities: softmax of logits, exp of log-probabilities, or as they are.</summary>
    private static void ToProbabilities(Span<float> outputs, OutputTransform transform)
    {
        switch (transform)
        {
            case OutputTransform.None: Kernels.Softmax.Forward(outputs, outputs, 1, outputs.Length); break;
            case OutputTransform.LogSoftmax: TensorPrimitives.Exp(outputs, outputs); break;
        }
    }

    /// <summary>A JSON error's message without the exception's type and paths into our code.</summary>
    private static string Plain(string message) => message.Split(" Path:")[0].TrimEnd('.');

    public static ProblemHttpResult Problem(int status, string title, string detail)
        => TypedResults.Problem(statusCode: status, title: title, detail: detail);

    /// <summary>GET /model: what is serving.</summary>
    public static IResult Model(ModelHost host)
    {
        LoadedModel model = host.Current;
        ModelMetadata metadata = model.Metadata;
        return TypedResults.Ok(new ModelDescription(
            model.Version, System.IO.Path.GetFileName(model.Path), model.Sha256, model.LoadedAt,
            model.Predictor.InputSize, model.Predictor.OutputSize, metadata.InputName, metadata.OutputName, metadata.ClassLabels,
            metadata.InputNormalization is not null, metadata.OutputTransform.ToString()));
    }

    /// <summary>GET /healthz: 200 with the model version once the request path is warm; 503 before (send no traffic yet).</summary>
    public static IResult Health(PipelineWarmup warmup, IServiceProvider services)
    {
        long version = services.GetService(typeof(ModelHost)) is ModelHost host ? host.Current.Version : 0;
        return warmup.Ready
            ? TypedResults.Ok(new Health("ok", version))
            : TypedResults.Json(new Health("warming up", version), ServiceJson.Default.Health, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}

/// <summary>The /model response.</summary>
public sealed record ModelDescription(long Version, string File, string Sha256, DateTimeOffset LoadedAt, int InputSize, int OutputSize,
    string? InputName, string? OutputName, IReadOnlyList<string>? ClassLabels, bool NormalizesInputs, string OutputTransform);

/// <summary>The /healthz response.</summary>
public sealed record Health(string Status, long ModelVersion);
