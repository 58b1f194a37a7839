// The FastNet prediction service. Run from the repository root after the demo has saved its model:
//   dotnet run -c Release --project src/FastNet.Service -- --model mnist-model.fnet [--batching true] [--urls http://127.0.0.1:5000]
// then open the URL for the draw-a-digit page, or POST 784 floats to /predict.
using FastNet.Service;

try
{
    using Microsoft.AspNetCore.Builder.WebApplication app = ServiceApp.Build(args);
    app.Run();
    return 0;
}
catch (ServiceStartException e)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}
