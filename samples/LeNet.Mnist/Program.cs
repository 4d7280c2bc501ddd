using System;
using LeNet.Mnist;

Console.WriteLine(LeNet5.Summary);
