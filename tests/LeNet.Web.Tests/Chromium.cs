using System;
using LeNet.Gen.Testing;
using OpenQA.Selenium.Chrome;

namespace LeNet.Web.Tests;

/// <summary>
/// The headless Chromium the browser test drives: Debian's <c>chromium</c> and <c>chromium-driver</c>. Whether they are
/// present is decided in one place, <see cref="ExternalTools"/> (<see cref="Tool.Chromium"/>).
/// </summary>
internal static class Chromium
{
    public const string Browser = "/usr/bin/chromium";
    public const string DriverFolder = "/usr/bin";
    public const string Driver = "chromedriver";

    /// <summary>Starts headless Chromium with a new empty profile; fails the test, naming the install command, when it is missing.</summary>
    public static ChromeDriver Start(string profileFolder, int width, int height)
    {
        ExternalTools.Require(Tool.Chromium);

        var options = new ChromeOptions { BinaryLocation = Browser };
        options.AddArguments(
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", $"--user-data-dir={profileFolder}", $"--window-size={width},{height}");
        ChromeDriverService service = ChromeDriverService.CreateDefaultService(DriverFolder, Driver);
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        return new ChromeDriver(service, options, TimeSpan.FromMinutes(2));
    }
}
