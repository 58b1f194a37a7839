using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;

namespace FastNet.Service;

/// <summary>The service's JSON, generated at build time (no reflection: trimming- and AOT-safe).</summary>
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(float[]), TypeInfoPropertyName = "SingleArray")]
[JsonSerializable(typeof(Prediction))]
[JsonSerializable(typeof(ModelDescription))]
[JsonSerializable(typeof(Health))]
[JsonSerializable(typeof(ProblemDetails))]
internal sealed partial class ServiceJson : JsonSerializerContext;
