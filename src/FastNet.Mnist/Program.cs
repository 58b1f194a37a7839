using FastNet.Mnist;

return DemoProgram.Run(args, Spectre.Console.AnsiConsole.Console, Console.Error);
