; Inno Setup 6 script: Windows installer over the PyInstaller one-folder build.
; UNTESTED: this project has no Windows build machine or code-signing certificate.
; See packaging/windows/README.md for the steps and what to verify.
;
; Build (on Windows, from the repository root, after the PyInstaller build):
;   iscc /DAppVersion=0.1.0 "/Sposappsign=signtool sign /fd sha256 /tr <timestamp URL> /td sha256 /n <subject> $f" packaging\windows\pos-app.iss
; (the sign tool signs pos-app*.exe *before* they are packed, then the setup and uninstaller)
; Silent install, e.g. from a software-distribution tool (the till's Windows account named):
;   pos-app-0.1.0-setup.exe /VERYSILENT /SUPPRESSMSGBOXES /NORESTART /TASKS="kiosk" /TILLACCOUNT=kiosk /LOG="C:\Windows\Temp\pos-app-setup.log"
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
; Signs the setup, the uninstaller and every [Files] entry flagged "sign" (before packing).
SignTool=posappsign
SignedUninstaller=yes
; Tells running programs (Explorer) when the installer changed the environment (PATH).
ChangesEnvironment=yes

[Languages]
Name: "en"; MessagesFile: "compiler:Default.isl"
Name: "ja"; MessagesFile: "compiler:Languages\Japanese.isl"

[InstallDelete]
; The previous release's libraries: a DLL the new build no longer has must not linger
; (PyInstaller would load it before the new one).
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "..\..\build\pyinstaller\dist\pos-app\pos-app.exe"; DestDir: "{app}"; Flags: ignoreversion sign
Source: "..\..\build\pyinstaller\dist\pos-app\pos-app-window.exe"; DestDir: "{app}"; Flags: ignoreversion sign
Source: "..\..\build\pyinstaller\dist\pos-app\_internal\*"; DestDir: "{app}\_internal"; Flags: ignoreversion recursesubdirs createallsubdirs
; The installer's defaults (data and log folders); replaced by every upgrade. Site
; settings live in {commonappdata}\pos-app\config.d, which upgrades never touch.
Source: "defaults.toml"; DestDir: "{app}"; Flags: ignoreversion
Source: "vcredist_x64.exe"; DestDir: "{tmp}"; Flags: deleteafterinstall

[Dirs]
; Kept on uninstall (like 'apt-get remove'); delete by hand to purge. The data folder
; (database, terminal key, PIN pepper) is restricted to the till's account in [Run].
Name: "{commonappdata}\pos-app\config.d"; Flags: uninsneveruninstall
Name: "{commonappdata}\pos-app\data"; Flags: uninsneveruninstall
Name: "{commonappdata}\pos-app\logs"; Flags: uninsneveruninstall

[Icons]
Name: "{group}\pos-app"; Filename: "{app}\pos-app-window.exe"; Parameters: "run"
Name: "{group}\pos-app doctor"; Filename: "{cmd}"; Parameters: "/k ""{app}\pos-app.exe"" doctor"
Name: "{commonstartup}\pos-app (kiosk)"; Filename: "{app}\pos-app-window.exe"; Parameters: "run --kiosk"; Tasks: kiosk

[Tasks]
Name: "kiosk"; Description: "Start pos-app full screen at every logon (kiosk mode)"; Flags: unchecked

[Registry]
; 'pos-app' in any new console (the system PATH).
Root: HKLM; Subkey: "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
; msvcr120.dll for libzbar-64.dll. /install /quiet /norestart is the documented silent mode.
Filename: "{tmp}\vcredist_x64.exe"; Parameters: "/install /quiet /norestart"; StatusMsg: "Installing the Visual C++ 2013 runtime..."; Check: NeedsVCRedist2013
; The till's data for the till's account only (issue 15.4): no inherited "Users" access.
Filename: "{sys}\icacls.exe"; Parameters: """{commonappdata}\pos-app\data"" /inheritance:r /grant:r ""*S-1-5-18:(OI)(CI)F"" ""*S-1-5-32-544:(OI)(CI)F"" ""{param:TillAccount}:(OI)(CI)M"""; Flags: runhidden; Check: TillAccountGiven
Filename: "{sys}\icacls.exe"; Parameters: """{commonappdata}\pos-app\logs"" /grant ""{param:TillAccount}:(OI)(CI)M"""; Flags: runhidden; Check: TillAccountGiven
Filename: "{app}\pos-app.exe"; Parameters: "doctor --offline"; Description: "Check this terminal now (pos-app doctor)"; Flags: postinstall nowait skipifsilent shellexec

[Code]
function TillAccountGiven: Boolean;
begin
  Result := ExpandConstant('{param:TillAccount|}') <> '';
end;

function NeedsAddPath(Dir: string): Boolean;
var
  Path: string;
begin
  if not RegQueryStringValue(HKLM, 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment', 'Path', Path) then
    Result := True
  else
    Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';') = 0;
end;

function NeedsVCRedist2013: Boolean;
var
  Installed: Cardinal;
begin
  { Microsoft's detection key for the VC++ 2013 x64 runtime. }
  Result := not (RegQueryDWordValue(HKLM64, 'SOFTWARE\Microsoft\VisualStudio\12.0\VC\Runtimes\x64', 'Installed', Installed) and (Installed = 1));
end;
