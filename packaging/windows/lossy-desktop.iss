; Inno Setup 6 script: a per-user installer for the PyInstaller bundle in dist\lossy-desktop\.
; Built by packaging\windows\build.ps1, which passes the version:
;   iscc /DAppVersion=0.1.0 packaging\windows\lossy-desktop.iss
; Output: dist\LossyDesktop-<version>-setup.exe

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#define AppName "Lossy Desktop"
#define AppExe "lossy-desktop.exe"

[Setup]
AppId={{6C1E8A44-3B0C-4C55-9C1F-5A0B7F2E9D31}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=Lossy
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\Lossy Desktop
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per-user install by default (no admin); the user may choose all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=..\..\dist
OutputBaseFilename=LossyDesktop-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\lossy-desktop.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "..\..\dist\lossy-desktop\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; A previous version's files: the bundle is replaced as a whole.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

; Notes and settings live in %LOCALAPPDATA%\lossy-desktop and are kept on uninstall.
