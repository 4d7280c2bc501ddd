using System;
using System.IO;
using OpenQA.Selenium.Chrome;

namespace LeNet.Web.Tests;

/// <summary>
/// The headless Chromium the browser test drives: Debian's <c>chromium</c> and <c>chromium-driver</c>. Every check that
/// they are present is here, so that a policy for machines without them can be put in one place; for now a missing
/// browser fails the test with the command that installs it.
/// </summary>
internal static class Chromium
{
    public const string Browser = "/usr/bin/chromium";
    public const string DriverFolder = "/usr/bin";
    public const string Driver = "chromedriver";
    public const string Install = "apt-get install -y chromium chromium-driver";

    /// <summary>Starts headless Chromium with a new empty profile; throws, naming the install command, when it is missing.</summary>
    public static ChromeDriver Start(string profileFolder, int width, int height)
    {
        if (!File.Exists(Browser) || !File.Exists(Path.Combine(DriverFolder, Driver)))
        {
            throw new InvalidOperationException(
                $"The browser test needs Debian's Chromium and its driver ({Browser}, {Path.Combine(DriverFolder, Driver)}); install them with: {Install}");
        }

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
