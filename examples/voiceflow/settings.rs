//! What the commands share: the configuration file (the server's schema and
//! loader, `voiceflow.example.toml`) and the encrypted store with its
//! passphrase.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use voiceflow_core::store::{Store, StoreConfig, StoreKey};
use voiceflow_core::{Error, Result};
use voiceflow_server::ServerConfig;

/// `--config`, shared by the commands that read the configuration.
#[derive(clap::Args)]
pub struct ConfigArgs {
    /// Configuration file (voiceflow.example.toml lists every key); default:
    /// $VOICEFLOW_CONFIG, else ~/.config/voiceflow/voiceflow.toml when it exists.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
}

/// `--store` and `--key-file`, shared by the commands that use the store.
#[derive(clap::Args)]
pub struct StoreArgs {
    /// The encrypted store's folder (default: storage.path of the
    /// configuration). The passphrase comes from --key-file, the
    /// configuration's storage.passphrase_file, $VOICEFLOW_STORE_PASSPHRASE
    /// (storage.passphrase_env), or a prompt on a terminal; never from an
    /// argument.
    #[arg(long, global = true)]
    pub store: Option<PathBuf>,
    /// A file holding the store's passphrase (trailing newline ignored).
    #[arg(long, global = true)]
    pub key_file: Option<PathBuf>,
}

impl ConfigArgs {
    /// The configuration: the file named, else the user's, else the
    /// defaults. Errors name the file and the key.
    pub fn load(&self) -> Result<ServerConfig> {
        match self.path() {
            Some(path) => ServerConfig::load(&path),
            None => Ok(ServerConfig::default()),
        }
    }

    fn path(&self) -> Option<PathBuf> {
        if let Some(path) = &self.config {
            return Some(path.clone());
        }
        if let Some(path) = std::env::var_os("VOICEFLOW_CONFIG").filter(|p| !p.is_empty()) {
            return Some(PathBuf::from(path));
        }
        let home = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))?;
        Some(home.join("voiceflow/voiceflow.toml")).filter(|p| p.is_file())
    }
}

impl StoreArgs {
    /// Whether a store was asked for (by flag or configuration).
    pub fn wanted(&self, config: &ServerConfig) -> bool {
        self.store.is_some() || config.storage.path.is_some()
    }

    /// Opens the store (created when missing).
    pub fn open(&self, config: &ServerConfig) -> Result<Store> {
        let mut storage = config.storage.clone();
        if let Some(dir) = &self.store {
            storage.path = Some(dir.clone());
        }
        if let Some(file) = &self.key_file {
            storage.passphrase_file = Some(file.clone());
        }
        let Some(path) = &storage.path else {
            return Err(Error::InvalidArgument(
                "no store: give --store DIR or set storage.path in the configuration".into(),
            ));
        };
        let key = match storage.key()? {
            Some(key) => key,
            None if std::io::stdin().is_terminal() => prompt()?,
            None => {
                return Err(Error::InvalidArgument(format!(
                    "the store {} needs its passphrase: give --key-file FILE, set ${}, \
                     or run on a terminal to be asked",
                    path.display(),
                    storage.passphrase_env
                )))
            }
        };
        Store::open(path, key, StoreConfig::default())
    }
}

/// Asks for the passphrase on the terminal, without echo.
fn prompt() -> Result<StoreKey> {
    let passphrase =
        rpassword::prompt_password("voiceflow: store passphrase: ").map_err(|e| Error::Io {
            path: "/dev/tty".into(),
            source: e,
        })?;
    if passphrase.is_empty() {
        return Err(Error::InvalidArgument("an empty passphrase".into()));
    }
    Ok(StoreKey::passphrase(passphrase))
}
