using LeNet.Mnist;

// Parse the command line; the training run itself lives in TrainingRun.
return SampleCommand.Invoke(args, TrainingRun.Execute);
