# Windows: builds dist\lossy-desktop\ with PyInstaller (build.spec), smoke-tests it, then the
# installer dist\LossyDesktop-<version>-setup.exe with Inno Setup 6. Run from the repo root in
# PowerShell on Windows 10/11 x64 with Python 3.11 and Inno Setup 6 installed:
#   py -3.11 -m venv .venv; .venv\Scripts\pip install --require-hashes -r requirements.lock -r requirements-dev.lock; .venv\Scripts\pip install --no-deps -e .
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1
# Optional: $env:SIGNTOOL_CERT = path of a .pfx (and $env:SIGNTOOL_PASSWORD) to sign the exe files.
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")

$py = ".venv\Scripts\python.exe"
if (-not (Test-Path $py)) { throw "No .venv: create it first (see the top of this script)." }
$version = (& $py -c "import lossy_desktop; print(lossy_desktop.__version__)").Trim()
$watch = [Diagnostics.Stopwatch]::StartNew()

Remove-Item -Recurse -Force dist\lossy-desktop -ErrorAction SilentlyContinue
& $py -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build\pyinstaller build.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }

# lossy-desktop-cli.exe is the console twin of the GUI exe: it prints the self-test.
$env:QT_QPA_PLATFORM = "offscreen"
& dist\lossy-desktop\lossy-desktop-cli.exe --self-test
if ($LASTEXITCODE -ne 0) { throw "The frozen app failed its self-test" }
Remove-Item Env:QT_QPA_PLATFORM

if ($env:SIGNTOOL_CERT) {
  & signtool sign /f $env:SIGNTOOL_CERT /p $env:SIGNTOOL_PASSWORD /fd SHA256 /tr http://timestamp.digicert.com /td SHA256 `
    dist\lossy-desktop\lossy-desktop.exe dist\lossy-desktop\lossy-desktop-cli.exe
}

$iscc = @("${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe", "$env:ProgramFiles\Inno Setup 6\ISCC.exe", "$env:LOCALAPPDATA\Programs\Inno Setup 6\ISCC.exe") |
  Where-Object { Test-Path $_ } | Select-Object -First 1
if (-not $iscc) { throw "Inno Setup 6 not found: install it (winget install JRSoftware.InnoSetup)" }
& $iscc "/DAppVersion=$version" packaging\windows\lossy-desktop.iss
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }

$watch.Stop()
$bundleMB = [math]::Round((Get-ChildItem dist\lossy-desktop -Recurse -File | Measure-Object Length -Sum).Sum / 1MB)
$setup = "dist\LossyDesktop-$version-setup.exe"
"build time: $([math]::Round($watch.Elapsed.TotalSeconds)) s"
"unpacked bundle: $bundleMB MB (dist\lossy-desktop)"
"installer: $([math]::Round((Get-Item $setup).Length / 1MB)) MB ($setup)"
