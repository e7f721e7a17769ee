using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace HeMif.TestKit.PublicApi;

/// <summary>
/// Renders an assembly's public surface as sorted text lines and compares it with a checked-in file.
/// The Roslyn public-API analyzer is not installable here, so this does the same job by reflection:
/// every change to the surface shows in the diff of the checked-in file.
/// </summary>
public static class PublicApiSnapshot
{
    /// <summary>Set this environment variable to 1 to rewrite the checked-in files with the current surface.</summary>
    public const string AcceptVariable = "HEMIF_ACCEPT_PUBLIC_API";

    /// <summary>One line per public type and per public or protected member, sorted ordinally.</summary>
    public static string Render(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var lines = new List<string>();
        foreach (var type in assembly.GetExportedTypes())
        {
            var typeName = Name(type);
            lines.Add($"{Kind(type)} {typeName}{BaseList(type)}");
            const BindingFlags flags = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance |
                                       BindingFlags.Static | BindingFlags.DeclaredOnly;
            foreach (var member in type.GetMembers(flags))
            {
                var line = Member(member);
                if (line is not null)
                {
                    lines.Add($"{typeName}::{line}");
                }
            }
        }

        lines.Sort(StringComparer.Ordinal);
        return lines.Count == 0 ? "" : string.Join('\n', lines) + "\n";
    }

    /// <summary>
    /// Compares <paramref name="assembly"/>'s surface with <paramref name="snapshotPath"/>. Returns null when they
    /// agree, otherwise a message listing the added and removed lines. With <see cref="AcceptVariable"/>=1 the
    /// file under <paramref name="sourceSnapshotPath"/> is rewritten instead.
    /// </summary>
    public static string? Compare(Assembly assembly, string snapshotPath, string sourceSnapshotPath)
    {
        var actual = Render(assembly);
        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            File.WriteAllText(sourceSnapshotPath, actual);
            return null;
        }

        var expected = File.Exists(snapshotPath) ? File.ReadAllText(snapshotPath).Replace("\r\n", "\n", StringComparison.Ordinal) : "";
        if (expected == actual)
        {
            return null;
        }

        var expectedLines = expected.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var actualLines = actual.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"The public API of {assembly.GetName().Name} differs from {sourceSnapshotPath}.\n");
        foreach (var added in actualLines.Except(expectedLines).Order(StringComparer.Ordinal))
        {
            sb.Append("+ ").Append(added).Append('\n');
        }

        foreach (var removed in expectedLines.Except(actualLines).Order(StringComparer.Ordinal))
        {
            sb.Append("- ").Append(removed).Append('\n');
        }

        sb.Append(CultureInfo.InvariantCulture, $"If the change is intended, run the tests once with {AcceptVariable}=1 and commit the file.");
        return sb.ToString();
    }

    /// <summary>
    /// Compares <paramref name="assembly"/> with <c>PublicApi/NAME.txt</c>: the copy in the test output to read, the one
    /// beside the calling test file to rewrite on accept. Returns null when they agree, else the difference.
    /// </summary>
    public static string? CompareWithCheckedIn(Assembly assembly, [CallerFilePath] string callerFile = "")
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var file = assembly.GetName().Name + ".txt";
        return Compare(assembly, Path.Combine(AppContext.BaseDirectory, "PublicApi", file), Path.Combine(Path.GetDirectoryName(callerFile)!, "PublicApi", file));
    }

    private static string Kind(Type t) =>
        t.IsInterface ? "interface"
        : t.IsEnum ? "enum"
        : t.IsValueType ? (t.IsDefined(typeof(System.Runtime.CompilerServices.IsReadOnlyAttribute)) ? "readonly struct" : "struct")
        : typeof(Delegate).IsAssignableFrom(t) ? "delegate"
        : t.IsAbstract && t.IsSealed ? "static class"
        : t.IsAbstract ? "abstract class"
        : t.IsSealed ? "sealed class"
        : "class";

    private static string BaseList(Type t)
    {
        var parts = new List<string>();
        if (t.BaseType is { } b && b != typeof(object) && b != typeof(ValueType) && b != typeof(Enum) && !typeof(Delegate).IsAssignableFrom(t))
        {
            parts.Add(Name(b));
        }

        parts.AddRange(t.GetInterfaces().Where(i => i.IsPublic || i.IsNestedPublic).Select(Name).Order(StringComparer.Ordinal));
        return parts.Count == 0 ? "" : " : " + string.Join(", ", parts);
    }

    private static string? Member(MemberInfo m)
    {
        switch (m)
        {
            case ConstructorInfo c when Visible(c):
                return $"{Access(c)}{(c.IsStatic ? "static " : "")}.ctor({Parameters(c.GetParameters())})";
            case MethodInfo mi when Visible(mi) && !mi.IsSpecialName:
                return $"{Access(mi)}{Modifiers(mi)}{Name(mi.ReturnType)} {mi.Name}{GenericArgs(mi)}({Parameters(mi.GetParameters())})";
            case PropertyInfo p:
                var getter = p.GetMethod is { } g && Visible(g) ? "get; " : "";
                var setter = p.SetMethod is { } s && Visible(s) ? (s.ReturnParameter.GetRequiredCustomModifiers().Any(x => x.Name == "IsExternalInit") ? "init; " : "set; ") : "";
                if (getter.Length == 0 && setter.Length == 0)
                {
                    return null;
                }

                var accessor = (p.GetMethod ?? p.SetMethod)!;
                var index = p.GetIndexParameters();
                var name = index.Length == 0 ? p.Name : $"this[{Parameters(index)}]";
                return $"{Access(accessor)}{Modifiers(accessor)}{Name(p.PropertyType)} {name} {{ {getter}{setter}}}";
            case FieldInfo f when f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly:
                if (f.DeclaringType!.IsEnum)
                {
                    return f.IsStatic ? $"{f.Name} = {Convert.ToInt64(f.GetRawConstantValue(), CultureInfo.InvariantCulture)}" : null;
                }

                return $"{(f.IsPublic ? "public " : "protected ")}{(f.IsLiteral ? "const " : f.IsStatic ? "static " : "")}{(f.IsInitOnly ? "readonly " : "")}{Name(f.FieldType)} {f.Name}";
            case EventInfo e when e.AddMethod is { } add && Visible(add):
                return $"{Access(add)}event {Name(e.EventHandlerType!)} {e.Name}";
            default:
                return null;
        }
    }

    private static bool Visible(MethodBase m) => m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly;

    private static string Access(MethodBase m) => m.IsPublic ? "public " : "protected ";

    private static string Modifiers(MethodInfo m) =>
        m.IsStatic ? "static "
        : m.IsAbstract ? "abstract "
        : m.IsVirtual && !m.IsFinal && m.GetBaseDefinition() == m ? "virtual "
        : m.IsVirtual && m.GetBaseDefinition() != m ? "override "
        : "";

    private static string GenericArgs(MethodInfo m) =>
        m.IsGenericMethodDefinition ? "<" + string.Join(", ", m.GetGenericArguments().Select(a => a.Name)) + ">" : "";

    private static string Parameters(ParameterInfo[] ps) =>
        string.Join(", ", ps.Select(p =>
            (p.IsOut ? "out " : p.ParameterType.IsByRef ? "ref " : p.IsDefined(typeof(ParamArrayAttribute)) ? "params " : "") +
            Name(p.ParameterType.IsByRef ? p.ParameterType.GetElementType()! : p.ParameterType) + " " + p.Name +
            (p.HasDefaultValue ? " = " + (p.DefaultValue is null ? "null" : Convert.ToString(p.DefaultValue, CultureInfo.InvariantCulture)) : "")));

    /// <summary>A C#-like name: namespace-qualified, generic arguments spelled out, nullable value types with '?'.</summary>
    private static string Name(Type t)
    {
        if (t.IsGenericParameter)
        {
            return t.Name;
        }

        if (t.IsArray)
        {
            return Name(t.GetElementType()!) + "[]";
        }

        if (Nullable.GetUnderlyingType(t) is { } inner)
        {
            return Name(inner) + "?";
        }

        var prefix = t.IsNested ? Name(t.DeclaringType!) + "." : (t.Namespace is null ? "" : t.Namespace + ".");
        var name = t.Name;
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        if (tick >= 0)
        {
            name = name[..tick];
        }

        if (!t.IsGenericType)
        {
            return prefix + name;
        }

        var args = t.GetGenericArguments();
        if (t.IsNested)
        {
            // Generic arguments of the declaring type are repeated on nested types; show only this type's own.
            args = args.Skip(t.DeclaringType!.GetGenericArguments().Length).ToArray();
            if (args.Length == 0)
            {
                return prefix + name;
            }
        }

        return prefix + name + "<" + string.Join(", ", args.Select(Name)) + ">";
    }
}
