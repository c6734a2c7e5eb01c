pub mod notifications;
pub mod search;
