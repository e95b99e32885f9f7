; Inno Setup 6 script: Windows installer over the PyInstaller one-folder build.
; UNTESTED: this project has no Windows build machine or code-signing certificate.
; See packaging/windows/README.md for the steps and what to verify.
;
; Build (on Windows, from the repository root, after the PyInstaller build):
;   iscc /DAppVersion=0.1.0 packaging\windows\pos-app.iss
; Inputs:
;   build\pyinstaller\dist\pos-app\      the one-folder build (pos-app.exe, pos-app-window.exe)
;   packaging\windows\vcredist_x64.exe   Microsoft Visual C++ 2013 Redistributable (x64),
;                                        needed by pyzbar's libzbar-64.dll (msvcr120.dll)

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6C1E3F0A-7B4D-4E57-9F0B-5D2B8A61C0E1}
AppName=pos-app
AppVersion={#AppVersion}
AppPublisher=pos-app team
DefaultDirName={autopf}\pos-app
DefaultGroupName=pos-app
DisableProgramGroupPage=yes
OutputDir=..\..\dist
OutputBaseFilename=pos-app-{#AppVersion}-setup
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequired=admin
Compression=lzma2/fast
SolidCompression=yes
SetupIconFile=pos-app.ico
UninstallDisplayIcon={app}\pos-app-window.exe
WizardStyle=modern

[Languages]
Name: "en"; MessagesFile: "compiler:Default.isl"
Name: "ja"; MessagesFile: "compiler:Languages\Japanese.isl"

[Files]
Source: "..\..\build\pyinstaller\dist\pos-app\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
; Settings for this terminal: installed once, never overwritten by an upgrade.
Source: "config.toml"; DestDir: "{commonappdata}\pos-app"; Flags: onlyifdoesntexist uninsneveruninstall
Source: "vcredist_x64.exe"; DestDir: "{tmp}"; Flags: deleteafterinstall

[Dirs]
; Database and terminal key. Users may modify; the key file itself is protected by its ACL
; when enrollment writes it. Kept on uninstall (like 'dpkg -r'); delete by hand to purge.
Name: "{commonappdata}\pos-app\data"; Permissions: users-modify; Flags: uninsneveruninstall
Name: "{commonappdata}\pos-app\logs"; Permissions: users-modify; Flags: uninsneveruninstall

[Icons]
Name: "{group}\pos-app"; Filename: "{app}\pos-app-window.exe"; Parameters: "run"
Name: "{group}\pos-app doctor"; Filename: "{cmd}"; Parameters: "/k ""{app}\pos-app.exe"" doctor"
Name: "{commonstartup}\pos-app (kiosk)"; Filename: "{app}\pos-app-window.exe"; Parameters: "run"; Tasks: kiosk

[Tasks]
Name: "kiosk"; Description: "Start pos-app full screen at every logon (kiosk mode)"; Flags: unchecked

[Registry]
; Kiosk mode is a setting; the Startup shortcut only starts the window.
Root: HKLM; Subkey: "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"; ValueType: string; ValueName: "POS_APP_UI_FULLSCREEN"; ValueData: "true"; Tasks: kiosk; Flags: uninsdeletevalue

[Run]
; msvcr120.dll for libzbar-64.dll. /install /quiet /norestart is the documented silent mode.
Filename: "{tmp}\vcredist_x64.exe"; Parameters: "/install /quiet /norestart"; StatusMsg: "Installing the Visual C++ 2013 runtime..."; Check: NeedsVCRedist2013
Filename: "{app}\pos-app.exe"; Parameters: "doctor --offline"; Description: "Check this terminal now (pos-app doctor)"; Flags: postinstall nowait skipifsilent shellexec

[Code]
function NeedsVCRedist2013: Boolean;
var
  Installed: Cardinal;
begin
  { Microsoft's detection key for the VC++ 2013 x64 runtime. }
  Result := not (RegQueryDWordValue(HKLM64, 'SOFTWARE\Microsoft\VisualStudio\12.0\VC\Runtimes\x64', 'Installed', Installed) and (Installed = 1));
end;
