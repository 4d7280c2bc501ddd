using System;
using System.Globalization;

namespace LeNet.Gen.Data;

/// <summary>Formats messages with the invariant culture, so numbers never carry group separators or local digits.</summary>
internal static class Text
{
    public static string Format(FormattableString message) => message.ToString(CultureInfo.InvariantCulture);
}
