"""French: msgid -> msgstr. A plural entry maps its singular msgid to (singular, plural); an entry
with a context is keyed (context, msgid). Applied by `manage.py update_translations`
(docs/TRANSLATING.md). The user is addressed as "vous"; a no-break space (\u00a0) goes before
":", ";", "?", "!" and inside « », as French typography wants."""

TRANSLATIONS = {
    # -- accounts: the admin --------------------------------------------------------------------
    "Person": "Personne",
    "Access": "Accès",
    "Dates": "Dates",
    "2FA": "2FA",
    "Reset second factor (the user enrols again at next login)": (
        "Réinitialiser le second facteur (l’utilisateur le reconfigure à sa prochaine connexion)"
    ),
    "Second factor reset for %(count)d user(s).": "Second facteur réinitialisé pour %(count)d utilisateur(s).",
    "Disable selected users": "Désactiver les utilisateurs sélectionnés",
    "%(count)d user(s) disabled.": "%(count)d utilisateur(s) désactivé(s).",
    "IMAP password": "Mot de passe IMAP",
    "SMTP password": "Mot de passe SMTP",
    "Only if it differs from the IMAP password.": "Seulement s’il diffère du mot de passe IMAP.",
    "Use the IMAP password for SMTP": "Utiliser le mot de passe IMAP pour SMTP",
    "A password is stored. Leave empty to keep it.": (
        "Un mot de passe est enregistré. Laissez vide pour le conserver."
    ),
    "Required.": "Obligatoire.",
    "Enter the IMAP password.": "Saisissez le mot de passe IMAP.",
    "Enter the SMTP password, or tick 'Use the IMAP password'.": (
        "Saisissez le mot de passe SMTP, ou cochez «\u00a0Utiliser le mot de passe IMAP pour SMTP\u00a0»."
    ),
    "A password cannot contain line breaks.": "Un mot de passe ne peut pas contenir de saut de ligne.",
    "recent connection tests": "tests de connexion récents",
    "IMAP": "IMAP",
    "SMTP": "SMTP",
    "Certificates": "Certificats",
    "Sent mail": "Messages envoyés",
    "sending held": "envoi suspendu",
    "password stored": "mot de passe enregistré",
    "Sending resumed: %(count)d held message is queued again.": (
        "Envoi repris\u00a0: %(count)d message suspendu est de nouveau en file d’attente.",
        "Envoi repris\u00a0: %(count)d messages suspendus sont de nouveau en file d’attente.",
    ),
    "Too many connection tests in the last hour; try later.": (
        "Trop de tests de connexion au cours de la dernière heure\u00a0; réessayez plus tard."
    ),
    "Test connection": "Tester la connexion",
    "Webmail administration": "Administration du webmail",
    "Webmail admin": "Administration du webmail",
    "Users, mail accounts and identities": "Utilisateurs, comptes de messagerie et identités",
    # -- accounts: sign-in, second factor, settings ---------------------------------------------
    "The time step of the last code used.": "L’intervalle de temps du dernier code utilisé.",
    "authenticator app": "application d’authentification",
    "authenticator apps": "applications d’authentification",
    "backup codes": "codes de secours",
    "backup code": "code de secours",
    "Email address": "Adresse e-mail",
    "That email address and password do not match. Check both and try again.": (
        "Cette adresse e-mail et ce mot de passe ne correspondent pas. Vérifiez-les et réessayez."
    ),
    "This account is disabled. Ask your administrator.": (
        "Ce compte est désactivé. Adressez-vous à votre administrateur."
    ),
    "Code": "Code",
    "A current code from your authenticator app, or a backup code": (
        "Un code actuel de votre application d’authentification, ou un code de secours"
    ),
    "Code from the new app": "Code de la nouvelle application",
    "Off": "Désactivé",
    "%(seconds)d seconds": "%(seconds)d secondes",
    "Default sender address": "Adresse d’expédition par défaut",
    "Choose one of your own sender addresses.": "Choisissez l’une de vos propres adresses d’expédition.",
    "Your name": "Votre nom",
    "Time zone": "Fuseau horaire",
    "Language": "Langue",
    "Date format": "Format de date",
    "List density": "Densité de la liste",
    "Reading pane": "Volet de lecture",
    "Appearance": "Apparence",
    "Undo send": "Annulation de l’envoi",
    "Compose in plain text": "Rédiger en texte brut",
    "Show remote images from people I have written to": (
        "Afficher les images distantes des personnes à qui j’ai écrit"
    ),
    "Site default (%(zone)s)": "Valeur par défaut du site (%(zone)s)",
    "Dates and times are shown, and “send later” is read, in this zone.": (
        "Les dates et heures sont affichées, et «\u00a0Envoyer plus tard\u00a0» est compris, dans ce fuseau."
    ),
    "Site default (%(seconds)d s)": "Valeur par défaut du site (%(seconds)d s)",
    "How long a sent message waits, so that you can still undo it.": (
        "Durée pendant laquelle un message envoyé attend, pour que vous puissiez encore annuler l’envoi."
    ),
    "The browser's": "Celle du navigateur",
    "Pages, dates and the mail the app writes (the attribution line of a reply) use it.": (
        "S’applique aux pages, aux dates et aux textes que l’application écrit dans les messages "
        "(la ligne d’introduction d’une réponse)."
    ),
    "New messages start in plain text instead of rich text.": (
        "Les nouveaux messages commencent en texte brut plutôt qu’en texte enrichi."
    ),
    "Shown at the top of the page.": "Affiché en haut de la page.",
    "The address new messages are sent from unless you choose another.": (
        "L’adresse d’où partent les nouveaux messages, sauf si vous en choisissez une autre."
    ),
    "A name cannot contain line breaks or control characters.": (
        "Un nom ne peut pas contenir de saut de ligne ni de caractère de contrôle."
    ),
    # -- accounts: models -----------------------------------------------------------------------
    "email address": "adresse e-mail",
    "full name": "nom complet",
    "active": "actif",
    "Unticking this disables the user without deleting their data.": (
        "Décocher cette case désactive l’utilisateur sans supprimer ses données."
    ),
    "staff": "équipe",
    "May use the admin panel.": "Peut utiliser l’administration.",
    "date joined": "date d’inscription",
    "time zone": "fuseau horaire",
    "undo send window (seconds)": "délai d’annulation de l’envoi (secondes)",
    "How long a sent message waits so it can still be cancelled. Empty: the site default.": (
        "Durée pendant laquelle un message envoyé attend, pour pouvoir encore être annulé. "
        "Vide\u00a0: la valeur par défaut du site."
    ),
    "compose in plain text": "rédiger en texte brut",
    "New messages start in plain text instead of rich text; each message can still switch.": (
        "Les nouveaux messages commencent en texte brut plutôt qu’en texte enrichi\u00a0; chaque message peut "
        "encore changer."
    ),
    "language": "langue",
    "The language of the pages and of the mail the app writes. Empty: the browser's.": (
        "La langue des pages et des textes que l’application écrit dans les messages. Vide\u00a0: celle du navigateur."
    ),
    "date format": "format de date",
    "The language's own": "Celui de la langue",
    "list density": "densité de la liste",
    "Comfortable": "Confortable",
    "Compact": "Compacte",
    "reading pane": "volet de lecture",
    "On a wide screen, open messages beside the list instead of in its place.": (
        "Sur un écran large, ouvrir les messages à côté de la liste plutôt qu’à sa place."
    ),
    "theme": "thème",
    "Follow the system": "Comme le système",
    "Light": "Clair",
    "Dark": "Sombre",
    "show remote images from people I have written to": (
        "afficher les images distantes des personnes à qui j’ai écrit"
    ),
    "Remote images in mail from an address you have sent mail to are shown without asking.": (
        "Les images distantes des messages venant d’une adresse à laquelle vous avez écrit sont affichées "
        "sans demander."
    ),
    "user": "utilisateur",
    "users": "utilisateurs",
    "TLS (implicit)": "TLS (implicite)",
    "STARTTLS": "STARTTLS",
    "None (loopback only)": "Aucune (boucle locale uniquement)",
    "label": "libellé",
    "IMAP host": "serveur IMAP",
    "IMAP port": "port IMAP",
    "IMAP security": "sécurité IMAP",
    "IMAP username": "nom d’utilisateur IMAP",
    "Leave empty to use the user's email address.": "Laissez vide pour utiliser l’adresse e-mail de l’utilisateur.",
    "IMAP password (encrypted)": "mot de passe IMAP (chiffré)",
    "SMTP host": "serveur SMTP",
    "SMTP port": "port SMTP",
    "SMTP security": "sécurité SMTP",
    "SMTP username": "nom d’utilisateur SMTP",
    "Leave empty to use the IMAP username.": "Laissez vide pour utiliser le nom d’utilisateur IMAP.",
    "SMTP password (encrypted)": "mot de passe SMTP (chiffré)",
    "Empty means the IMAP password is used.": "Vide\u00a0: le mot de passe IMAP est utilisé.",
    "extra trusted CA certificates (PEM)": "certificats d’AC de confiance supplémentaires (PEM)",
    "For a server whose certificate is signed by your own CA. Verification stays on.": (
        "Pour un serveur dont le certificat est signé par votre propre AC. La vérification reste active."
    ),
    "trust this certificate (SHA-256 fingerprint)": "faire confiance à ce certificat (empreinte SHA-256)",
    "Accept exactly this server certificate even though no CA vouches for it. "
    "Use only for a self-signed certificate you have checked yourself.": (
        "Accepter exactement ce certificat de serveur même si aucune AC ne le garantit. À n’utiliser que pour "
        "un certificat auto-signé que vous avez vérifié vous-même."
    ),
    "Sent folder": "dossier Envoyés",
    "Where copies of sent mail go. Empty: the folder the server marks as Sent.": (
        "Où vont les copies des messages envoyés. Vide\u00a0: le dossier que le serveur désigne comme Envoyés."
    ),
    "the server saves sent mail itself": "le serveur enregistre lui-même les messages envoyés",
    "Tick if the mail server already files submitted mail in Sent, so no second copy is made.": (
        "Cochez si le serveur de messagerie classe déjà les messages soumis dans Envoyés, pour qu’aucune "
        "seconde copie ne soit faite."
    ),
    "sending held since": "envoi suspendu depuis",
    "why sending is held": "motif de la suspension de l’envoi",
    "mail account": "compte de messagerie",
    "mail accounts": "comptes de messagerie",
    "An unencrypted connection is only allowed to a server on this machine (localhost).": (
        "Une connexion non chiffrée n’est autorisée que vers un serveur sur cette machine (localhost)."
    ),
    "Enter a SHA-256 fingerprint: 64 hex digits, colons optional.": (
        "Saisissez une empreinte SHA-256\u00a0: 64 chiffres hexadécimaux, deux-points facultatifs."
    ),
    "The account whose SMTP server sends mail from this address.": (
        "Le compte dont le serveur SMTP envoie les messages de cette adresse."
    ),
    "display name": "nom affiché",
    "address": "adresse",
    "signature": "signature",
    "Plain text, for messages written in plain text.": "Texte brut, pour les messages rédigés en texte brut.",
    "rich signature": "signature enrichie",
    "HTML, sanitized like a message body, for rich-text messages. Empty: the plain signature is used.": (
        "HTML, nettoyé comme le corps d’un message, pour les messages en texte enrichi. Vide\u00a0: la signature "
        "en texte brut est utilisée."
    ),
    "default": "par défaut",
    "identity": "identité",
    "identities": "identités",
    "A display name cannot contain line breaks.": "Un nom affiché ne peut pas contenir de saut de ligne.",
    "The account must belong to the same user.": "Le compte doit appartenir au même utilisateur.",
    # -- accounts: views ------------------------------------------------------------------------
    "You signed in with a backup code. %(count)d backup codes are left.": (
        "Vous vous êtes connecté avec un code de secours. Il reste %(count)d codes de secours."
    ),
    "That code has already been used. Wait for the next code from your app.": (
        "Ce code a déjà été utilisé. Attendez le prochain code de votre application."
    ),
    "Too many wrong codes. Try again in %(seconds)d seconds.": (
        "Trop de codes erronés. Réessayez dans %(seconds)d secondes."
    ),
    "That code is not right. Check the time on your phone and try the current code.": (
        "Ce code n’est pas correct. Vérifiez l’heure de votre téléphone et essayez le code actuel."
    ),
    "You are signed out.": "Vous êtes déconnecté.",
    "Your password has been changed.": "Votre mot de passe a été modifié.",
    "Your preferences are saved.": "Vos préférences sont enregistrées.",
    "Too many connection tests. Try again after %(time)s.": ("Trop de tests de connexion. Réessayez après %(time)s."),
    "Nothing was pinned: confirm that you checked the fingerprint first.": (
        "Rien n’a été épinglé\u00a0: confirmez d’abord que vous avez vérifié l’empreinte."
    ),
    "Nothing was pinned: that is not the certificate the last test saw. Test again.": (
        "Rien n’a été épinglé\u00a0: ce n’est pas le certificat vu par le dernier test. Testez de nouveau."
    ),
    "Nothing was pinned: the server could not be reached (%(reason)s).": (
        "Rien n’a été épinglé\u00a0: le serveur est injoignable (%(reason)s)."
    ),
    "Nothing was pinned: the server now presents another certificate. Test the connection again.": (
        "Rien n’a été épinglé\u00a0: le serveur présente maintenant un autre certificat. Testez de nouveau la connexion."
    ),
    "%(account)s now trusts the certificate with SHA-256 %(fingerprint)s. Test the connection again.": (
        "%(account)s fait maintenant confiance au certificat d’empreinte SHA-256 %(fingerprint)s. Testez de "
        "nouveau la connexion."
    ),
    # -- outbox: the admin ----------------------------------------------------------------------
    "SMTP exchanges": "Échanges SMTP",
    "Delivery": "Remise",
    "Worker": "Processus d’envoi",
    "Copy in Sent": "Copie dans Envoyés",
    "subject": "objet",
    "(no subject)": "(sans objet)",
    "size": "taille",
    "Retry now": "Réessayer maintenant",
    "Cancel": "Annuler",
    "%(count)d message queued to be sent now.": (
        "%(count)d message va être envoyé maintenant.",
        "%(count)d messages vont être envoyés maintenant.",
    ),
    "%(count)d message cancelled.": ("%(count)d message annulé.", "%(count)d messages annulés."),
    "%(count)d was skipped: it was not waiting to be sent.": (
        "%(count)d a été ignoré\u00a0: il n’attendait pas d’être envoyé.",
        "%(count)d ont été ignorés\u00a0: ils n’attendaient pas d’être envoyés.",
    ),
    # -- outbox: composing ----------------------------------------------------------------------
    "%(what)s cannot contain line breaks or control characters.": (
        "%(what)s ne peut pas contenir de saut de ligne ni de caractère de contrôle."
    ),
    "The message this answers could not be named safely.": (
        "Le message auquel celui-ci répond n’a pas pu être désigné de façon sûre."
    ),
    "Addresses cannot contain line breaks or control characters.": (
        "Les adresses ne peuvent pas contenir de saut de ligne ni de caractère de contrôle."
    ),
    "This is not a list of email addresses.": "Ce n’est pas une liste d’adresses e-mail.",
    "Check the addresses: separate them with commas, like Ann <ann@example.org>, bob@example.org.": (
        "Vérifiez les adresses\u00a0: séparez-les par des virgules, comme Ann <ann@example.org>, bob@example.org."
    ),
    "Address groups are not supported; list the addresses instead.": (
        "Les groupes d’adresses ne sont pas pris en charge\u00a0; indiquez plutôt les adresses une à une."
    ),
    "%(address)s needs SMTPUTF8 (non-ASCII letters before the @). This webmail cannot send to such "
    "addresses yet, whatever your mail server offers.": (
        "%(address)s nécessite SMTPUTF8 (des lettres non ASCII avant le @). Ce webmail ne peut pas encore "
        "écrire à de telles adresses, quoi que propose votre serveur de messagerie."
    ),
    "%(address)s: the domain is not valid.": "%(address)s\u00a0: le domaine n’est pas valide.",
    "%(address)s is not a valid email address.": "%(address)s n’est pas une adresse e-mail valide.",
    "The message headers could not be built safely.": "Les en-têtes du message n’ont pas pu être construits de façon sûre.",
    "Choose a time within the next year.": "Choisissez une heure dans l’année qui vient.",
    "A message may be at most %(limit)s as sent, attachments included. Attachments take about a "
    "third more than their size on disk.": (
        "Un message peut faire au plus %(limit)s une fois envoyé, pièces jointes comprises. Les pièces "
        "jointes occupent environ un tiers de plus que leur taille sur le disque."
    ),
    "The message is too large: the limit is %(limit)s as sent.": (
        "Le message est trop volumineux\u00a0: la limite est de %(limit)s une fois envoyé."
    ),
    "The message is too large: %(size)s as sent, and the limit is %(limit)s.": (
        "Le message est trop volumineux\u00a0: %(size)s une fois envoyé, pour une limite de %(limit)s."
    ),
    "Attachments take about a third more than their size on disk.": (
        "Les pièces jointes occupent environ un tiers de plus que leur taille sur le disque."
    ),
    "This message is no longer on the server.": "Ce message n’est plus sur le serveur.",
    "the original's attachments, fetched from the server when it is sent": (
        "les pièces jointes de l’original, récupérées sur le serveur à l’envoi"
    ),
    "the original message, fetched from the server when it is sent": (
        "le message d’origine, récupéré sur le serveur à l’envoi"
    ),
    "Queued.": "En file d’attente.",
    "This message was already queued.": "Ce message était déjà en file d’attente.",
    "Reply": "Répondre",
    "Reply all": "Répondre à tous",
    "Forward": "Transférer",
    "Forward as attachment": "Transférer en pièce jointe",
    "You have too many drafts. Send or discard some first.": (
        "Vous avez trop de brouillons. Envoyez-en ou supprimez-en d’abord quelques-uns."
    ),
    "You were signed out. Sign in again in another tab; this page keeps your text.": (
        "Vous avez été déconnecté. Reconnectez-vous dans un autre onglet\u00a0; cette page conserve votre texte."
    ),
    "Choose a file to attach.": "Choisissez un fichier à joindre.",
    "An attachment's name": "Le nom d’une pièce jointe",
    "Draft discarded.": "Brouillon supprimé.",
    "This draft can no longer be brought back.": "Ce brouillon ne peut plus être restauré.",
    "Draft restored.": "Brouillon restauré.",
    "There is no such draft.": "Ce brouillon n’existe pas.",
    "This draft was sent.": "Ce brouillon a été envoyé.",
    "This draft was changed in another window.": "Ce brouillon a été modifié dans une autre fenêtre.",
    "This draft was discarded.": "Ce brouillon a été supprimé.",
    "This draft no longer exists: it was sent or discarded.": (
        "Ce brouillon n’existe plus\u00a0: il a été envoyé ou supprimé."
    ),
    "Ann <ann@example.org>, bob@example.org": "Ann <ann@example.org>, bob@example.org",
    "From": "De",
    "To": "À",
    "Cc": "Cc",
    "Bcc": "Cci",
    "Subject": "Objet",
    "Message": "Message",
    "Plain text": "Texte brut",
    "Attachments": "Pièces jointes",
    "Request a delivery receipt": "Demander un accusé de réception",
    "Send later": "Envoyer plus tard",
    "Optional. In your time zone, %(zone)s. Leave empty to send now.": (
        "Facultatif. Dans votre fuseau horaire, %(zone)s. Laissez vide pour envoyer maintenant."
    ),
    "The subject": "L’objet",
    "The message this answers is not one of yours.": "Le message auquel celui-ci répond n’est pas l’un des vôtres.",
    "Choose a time in the future, or leave this empty to send now.": (
        "Choisissez une heure future, ou laissez vide pour envoyer maintenant."
    ),
    "Add at least one recipient.": "Ajoutez au moins un destinataire.",
    "A signature can be at most %(count)d characters.": "Une signature peut compter au plus %(count)d caractères.",
    "The rich signature is too long.": "La signature enrichie est trop longue.",
    # -- outbox: states and models --------------------------------------------------------------
    "queued": "en file d’attente",
    "sending": "en cours d’envoi",
    "deferred": "différé",
    "sent": "envoyé",
    "failed": "échec",
    "held": "suspendu",
    "uncertain": "incertain",
    "cancelled": "annulé",
    "not started": "non commencé",
    "before data": "avant DATA",
    "data sent": "DATA envoyé",
    "not needed": "inutile",
    "pending": "en attente",
    "saved": "enregistré",
    "answered": "répondu",
    "forwarded": "transféré",
    "envelope sender": "expéditeur d’enveloppe",
    "Message-ID": "Message-ID",
    "message bytes": "octets du message",
    "delivery receipt requested": "accusé de réception demandé",
    "due": "échéance",
    "scheduled by the user": "programmé par l’utilisateur",
    "next attempt": "prochaine tentative",
    "give up after": "abandonner après",
    "its resend": "son renvoi",
    "accepted by the server": "accepté par le serveur",
    "rejected": "refusé",
    "delivered": "remis",
    "delayed": "retardé",
    "bounced": "non remis",
    "connect": "connexion",
    "TLS": "TLS",
    "authentication": "authentification",
    "MAIL FROM": "MAIL FROM",
    "RCPT TO": "RCPT TO",
    "DATA": "DATA",
    "size check": "contrôle de taille",
    "open": "ouvert",
    "discarded": "supprimé",
    "The worker stopped after the message was sent and before the server's answer was recorded: "
    "it may or may not have been delivered. It will not be resent unless you ask.": (
        "Le processus d’envoi s’est arrêté après l’envoi du message et avant que la réponse du serveur soit "
        "enregistrée\u00a0: il a peut-être été remis, peut-être pas. Il ne sera renvoyé que si vous le demandez."
    ),
    "sending is held for this account": "l’envoi est suspendu pour ce compte",
    "the sender is not one of your addresses": "l’expéditeur n’est pas l’une de vos adresses",
    # -- outbox: answering, sending, the outbox pages -------------------------------------------
    "an unknown date": "(date inconnue)",
    "someone": "quelqu’un",
    "On %(date)s, %(name)s wrote:": "Le %(date)s, %(name)s a écrit\u00a0:",
    "Date": "Date",
    "You have reached the sending limit. You can send again at %(time)s.": (
        "Vous avez atteint la limite d’envoi. Vous pourrez de nouveau envoyer à %(time)s."
    ),
    "You can only send from your own addresses.": "Vous ne pouvez envoyer que depuis vos propres adresses.",
    "A message can have at most %(count)d recipients.": "Un message peut avoir au plus %(count)d destinataires.",
    "Signature saved for %(address)s.": "Signature enregistrée pour %(address)s.",
    "queued, sending at %(time)s": "en file d’attente, envoi à %(time)s",
    "deferred, retrying at %(time)s": "différé, nouvelle tentative à %(time)s",
    "sent to %(sent)d of %(total)d": "envoyé à %(sent)d sur %(total)d",
    "failed: %(reason)s": "échec\u00a0: %(reason)s",
    "%(names)s and %(count)d more": "%(names)s et %(count)d autres",
    "The message is now %(state)s.": "Le message est maintenant %(state)s.",
    "Sending undone. The message is back in the composer.": ("Envoi annulé. Le message est de retour dans l’éditeur."),
    "Sending undone. The message will not be sent.": "Envoi annulé. Le message ne sera pas envoyé.",
    "Cancelled.": "Annulé.",
    "It is too late to cancel this message.": "Il est trop tard pour annuler ce message.",
    "Sending now.": "Envoi en cours.",
    "This message is not waiting to be sent, so it cannot be retried.": (
        "Ce message n’attend pas d’être envoyé\u00a0: il ne peut donc pas être réessayé."
    ),
    "There is nothing to send again: every recipient already has this message, or it is still being sent.": (
        "Il n’y a rien à renvoyer\u00a0: tous les destinataires ont déjà ce message, ou il est encore en cours d’envoi."
    ),
    "Queued again as a new message.": "Remis en file d’attente comme nouveau message.",
    # -- templates: shared ----------------------------------------------------------------------
    "Keyboard shortcuts": "Raccourcis clavier",
    "None of the single keys work while you type in a field.": (
        "Aucune des touches seules ne fonctionne pendant que vous tapez dans un champ."
    ),
    "Show this list": "Afficher cette liste",
    "Write a new message": "Écrire un nouveau message",
    "Reply (on a message)": "Répondre (sur un message)",
    "Reply all (on a message)": "Répondre à tous (sur un message)",
    "Forward (on a message)": "Transférer (sur un message)",
    "In the composer": "Dans l’éditeur",
    "Send": "Envoyer",
    "Close the composer; the draft is kept": "Fermer l’éditeur\u00a0; le brouillon est conservé",
    "Go to Cc / Bcc": "Aller à Cc / Cci",
    "Bold, italic, underline (rich text)": "Gras, italique, souligné (texte enrichi)",
    "Close": "Fermer",
    "Webmail": "Webmail",
    "Tested %(when)s": "Testé le %(when)s",
    "The %(service)s server presented this certificate:": "Le serveur %(service)s a présenté ce certificat\u00a0:",
    "Issued by": "Émis par",
    "Names": "Noms",
    "Valid": "Validité",
    "SHA-256 fingerprint": "Empreinte SHA-256",
    "I have checked this fingerprint with the server's administrator.": (
        "J’ai vérifié cette empreinte auprès de l’administrateur du serveur."
    ),
    "Pin this certificate": "Épingler ce certificat",
    "The account then accepts exactly this certificate, for IMAP and SMTP alike, instead of asking a "
    "certificate authority; a new certificate must be trusted again.": (
        "Le compte accepte alors exactement ce certificat, pour IMAP comme pour SMTP, au lieu de s’en remettre "
        "à une autorité de certification\u00a0; un nouveau certificat devra être approuvé à son tour."
    ),
    "An administrator can check this fingerprint and trust this certificate for the account.": (
        "Un administrateur peut vérifier cette empreinte et approuver ce certificat pour le compte."
    ),
    # -- templates: accounts --------------------------------------------------------------------
    "Backup codes": "Codes de secours",
    "Your backup codes": "Vos codes de secours",
    "Each code signs you in once if you lose your phone. Store them somewhere safe now: they are "
    "shown only this once.": (
        "Chaque code vous connecte une fois si vous perdez votre téléphone. Rangez-les maintenant en lieu "
        "sûr\u00a0: ils ne sont affichés que cette fois."
    ),
    "I have saved them": "Je les ai enregistrés",
    "New backup codes": "Nouveaux codes de secours",
    "Make new backup codes": "Créer de nouveaux codes de secours",
    "Your old backup codes stop working. To go on, enter a current code from your authenticator app, "
    "or one of your backup codes.": (
        "Vos anciens codes de secours ne fonctionneront plus. Pour continuer, saisissez un code actuel de "
        "votre application d’authentification, ou l’un de vos codes de secours."
    ),
    "Too many attempts": "Trop de tentatives",
    "Sign-in for this address is paused after too many wrong passwords. Try again in "
    "%(cooloff_time)s, or ask your administrator.": (
        "La connexion pour cette adresse est suspendue après trop de mots de passe erronés. Réessayez dans "
        "%(cooloff_time)s, ou adressez-vous à votre administrateur."
    ),
    "Back to sign in": "Retour à la connexion",
    "Sign in": "Se connecter",
    "Continue": "Continuer",
    "Change password": "Changer le mot de passe",
    "Settings": "Paramètres",
    "Preferences": "Préférences",
    "Save preferences": "Enregistrer les préférences",
    "Mail accounts": "Comptes de messagerie",
    "You have no mail account yet. Ask your administrator to add one.": (
        "Vous n’avez pas encore de compte de messagerie. Demandez à votre administrateur d’en ajouter un."
    ),
    "Sender addresses": "Adresses d’expédition",
    "Signature": "Signature",
    "No sender address has been assigned to you yet.": "Aucune adresse d’expédition ne vous a encore été attribuée.",
    "Only an administrator can add sender addresses.": "Seul un administrateur peut ajouter des adresses d’expédition.",
    "Remote images": "Images distantes",
    "Remote images are always shown for mail from these senders, unless a message fails the sender checks:": (
        "Les images distantes sont toujours affichées pour les messages de ces expéditeurs, sauf si un message "
        "échoue aux vérifications de l’expéditeur\u00a0:"
    ),
    "Stop showing images": "Ne plus afficher les images",
    "Remote images are blocked for all senders until you choose to show them for a message or a sender.": (
        "Les images distantes sont bloquées pour tous les expéditeurs jusqu’à ce que vous choisissiez de les "
        "afficher pour un message ou un expéditeur."
    ),
    "Security": "Sécurité",
    "Two-step verification is on.": "La validation en deux étapes est activée.",
    "Replace authenticator": "Remplacer l’application d’authentification",
    "%(counter)s backup code left.": (
        "%(counter)s code de secours restant.",
        "%(counter)s codes de secours restants.",
    ),
    "Two-step verification is off.": "La validation en deux étapes est désactivée.",
    "Turn it on": "L’activer",
    "Set up two-step verification": "Configurer la validation en deux étapes",
    "Replace your authenticator": "Remplacer votre application d’authentification",
    "Open an authenticator app on your phone (for example FreeOTP, Aegis or Google Authenticator).": (
        "Ouvrez une application d’authentification sur votre téléphone (par exemple FreeOTP, Aegis ou "
        "Google Authenticator)."
    ),
    "Scan this code, or type the key below.": "Scannez ce code, ou saisissez la clé ci-dessous.",
    "QR code for your authenticator app": "Code QR pour votre application d’authentification",
    "Key:": "Clé\u00a0:",
    "To replace your authenticator, confirm with a current code from the old one (or a backup "
    "code), then with a code from the new one.": (
        "Pour remplacer votre application d’authentification, confirmez avec un code actuel de l’ancienne "
        "(ou un code de secours), puis avec un code de la nouvelle."
    ),
    "Confirm": "Confirmer",
    "Two-step verification": "Validation en deux étapes",
    "Enter the 6-digit code from your authenticator app, or one of your backup codes.": (
        "Saisissez le code à 6 chiffres de votre application d’authentification, ou l’un de vos codes de secours."
    ),
    "Verify": "Vérifier",
    "Use a different account": "Utiliser un autre compte",
    "Your account has no access to the admin panel.": "Votre compte n’a pas accès à l’administration.",
    "Back to your mailbox": "Retour à votre messagerie",
    # -- templates: base ------------------------------------------------------------------------
    "The list changed. Show it": "La liste a changé. L’afficher",
    "Notify me of new mail": "M’avertir des nouveaux messages",
    "New mail": "Nouveau message",
    "{count} unread in your Inbox": "{count} non lus dans votre boîte de réception",
    "Account": "Compte",
    "Compose": "Écrire",
    "Outbox": "Boîte d’envoi",
    "Keys": "Raccourcis",
    "Admin": "Administration",
    "Sign out": "Se déconnecter",
    "Your SMTP password was refused; your mail is waiting. Ask your administrator to update it.": (
        "Votre mot de passe SMTP a été refusé\u00a0; vos messages attendent. Demandez à votre administrateur de le "
        "mettre à jour."
    ),
    "Folders": "Dossiers",
    # -- templates: outbox ----------------------------------------------------------------------
    "Link address (https://… or an email address):": "Adresse du lien (https://… ou une adresse e-mail)\u00a0:",
    "Plain text has no bold, lists, links or images: the formatting will be lost. Switch to plain text?": (
        "Le texte brut n’a ni gras, ni listes, ni liens, ni images\u00a0: la mise en forme sera perdue. Passer en "
        "texte brut\u00a0?"
    ),
    "Only PNG, JPEG, GIF and WebP images can go in a message; attach other files instead.": (
        "Seules les images PNG, JPEG, GIF et WebP peuvent être insérées dans un message\u00a0; joignez plutôt les "
        "autres fichiers."
    ),
    "Formatting": "Mise en forme",
    "Bold": "Gras",
    "Italic": "Italique",
    "Underline": "Souligné",
    "Bulleted list": "Liste à puces",
    "Numbered list": "Liste numérotée",
    "Quote": "Citation",
    "Link": "Lien",
    "Remove formatting": "Supprimer la mise en forme",
    "Drafts": "Brouillons",
    "Status": "État",
    "The mail server refused to log your account in (a wrong SMTP password, or a way of logging in "
    "it does not accept), so nothing is sent from your account for now. The message goes out as "
    "soon as your administrator has fixed the account.": (
        "Le serveur de messagerie a refusé la connexion de votre compte (un mot de passe SMTP erroné, ou une "
        "méthode de connexion qu’il n’accepte pas)\u00a0: rien n’est envoyé depuis votre compte pour l’instant. Le "
        "message partira dès que votre administrateur aura réparé le compte."
    ),
    "The connection broke after the message was handed over and before the server confirmed it. It "
    "may or may not have arrived. It is not sent again unless you ask.": (
        "La connexion a été coupée après la transmission du message et avant que le serveur ne la confirme. "
        "Il est peut-être arrivé, peut-être pas. Il ne sera renvoyé que si vous le demandez."
    ),
    "Sent": "Envoyés",
    "Attempts": "Tentatives",
    "filed by the mail server": "classée par le serveur de messagerie",
    "Cancel sending": "Annuler l’envoi",
    "Send now": "Envoyer maintenant",
    "Send again": "Renvoyer",
    "Send again to the rejected recipients": "Renvoyer aux destinataires refusés",
    "If it did arrive, sending again means the recipients get it twice.": (
        "S’il est bien arrivé, le renvoyer signifie que les destinataires le recevront deux fois."
    ),
    "Recipients": "Destinataires",
    "Enhanced code": "Code étendu",
    "Server reply": "Réponse du serveur",
    "Delivery log": "Journal d’envoi",
    "Time": "Heure",
    "Try": "Essai",
    "Step": "Étape",
    "Duration": "Durée",
    "%(ms)s ms": "%(ms)s ms",
    "No attempt yet.": "Aucune tentative pour l’instant.",
    "New message": "Nouveau message",
    "Saving…": "Enregistrement…",
    "Saved {time}": "Enregistré à {time}",
    "Not saved ({reason}). Trying again soon; keep this page open.": (
        "Non enregistré ({reason}). Nouvel essai sous peu\u00a0; gardez cette page ouverte."
    ),
    "the server could not be reached": "le serveur est injoignable",
    "you were signed out; sign in again in another tab": (
        "vous avez été déconnecté\u00a0; reconnectez-vous dans un autre onglet"
    ),
    "Not saved: {reason}": "Non enregistré\u00a0: {reason}",
    "Not saved: changed in another window.": "Non enregistré\u00a0: modifié dans une autre fenêtre.",
    "Remove": "Retirer",
    "Remove {name}": "Retirer {name}",
    "Sending as soon as the attachments have finished uploading…": (
        "Envoi dès que les pièces jointes auront fini d’être téléversées…"
    ),
    "Not sent: an attachment could not be uploaded (see above).": (
        "Non envoyé\u00a0: une pièce jointe n’a pas pu être téléversée (voir ci-dessus)."
    ),
    "Saved %(saved_at)s": "Enregistré à %(saved_at)s",
    "This draft was changed in another window. What you see here is not saved.": (
        "Ce brouillon a été modifié dans une autre fenêtre. Ce que vous voyez ici n’est pas enregistré."
    ),
    "Keep this version": "Garder cette version",
    "Load the other version": "Charger l’autre version",
    "Attached:": "Pièces jointes\u00a0:",
    "Remove %(name)s": "Retirer %(name)s",
    "Forwarded with it:": "Transféré avec\u00a0:",
    "Choose the attachments again: a browser cannot keep them when the form comes back.": (
        "Choisissez de nouveau les pièces jointes\u00a0: un navigateur ne peut pas les conserver quand le formulaire "
        "revient."
    ),
    "This message: {used} of the {limit} it may be, as sent.": (
        "Ce message\u00a0: {used} sur les {limit} autorisés, une fois envoyé."
    ),
    "Discard": "Supprimer",
    "Written": "Rédigé",
    "Scheduled for": "Programmé pour",
    "Size": "Taille",
    "Delivery receipt": "Accusé de réception",
    "requested": "demandé",
    "not requested": "non demandé",
    "“%(subject)s” was discarded.": "«\u00a0%(subject)s\u00a0» a été supprimé.",
    "Undo": "Annuler",
    "Saved": "Enregistré",
    "%(count)s attachment": ("%(count)s pièce jointe", "%(count)s pièces jointes"),
    "not yet copied to the mail server": "pas encore copié sur le serveur de messagerie",
    "No drafts. Whatever you write is saved here as you type, until you send it.": (
        "Aucun brouillon. Tout ce que vous écrivez est enregistré ici au fil de la frappe, jusqu’à l’envoi."
    ),
    "Pages": "Pages",
    "Newer": "Plus récents",
    "Page %(number)s of %(total)s": "Page %(number)s sur %(total)s",
    "Older": "Plus anciens",
    "You have not sent anything yet.": "Vous n’avez encore rien envoyé.",
    "Write a message": "Écrire un message",
    "You cannot send mail yet": "Vous ne pouvez pas encore envoyer de messages",
    "No sender address has been assigned to you, so there is no address your mail could come from.": (
        "Aucune adresse d’expédition ne vous a été attribuée\u00a0: vos messages ne peuvent partir d’aucune adresse."
    ),
    "Ask your administrator to add a sender address to your mail account. Only an administrator can "
    "add sender addresses.": (
        "Demandez à votre administrateur d’ajouter une adresse d’expédition à votre compte de messagerie. Seul "
        "un administrateur peut ajouter des adresses d’expédition."
    ),
    "Open settings": "Ouvrir les paramètres",
    "Signature for %(address)s": "Signature pour %(address)s",
    "Plain-text signature": "Signature en texte brut",
    "For messages written in plain text. It goes below a line that says “-- ”.": (
        "Pour les messages rédigés en texte brut. Elle se place sous une ligne «\u00a0-- \u00a0»."
    ),
    "Rich-text signature": "Signature en texte enrichi",
    "For rich-text messages. Left empty, the plain-text signature is used. Without JavaScript, only "
    "the plain-text signature can be edited here.": (
        "Pour les messages en texte enrichi. Laissée vide, la signature en texte brut est utilisée. Sans "
        "JavaScript, seule la signature en texte brut peut être modifiée ici."
    ),
    "Save": "Enregistrer",
    # -- templates: the mailbox -----------------------------------------------------------------
    "Not junk": "Acceptable",
    ("mark as junk", "Junk"): "Indésirable",
    "Delete for good": "Supprimer définitivement",
    "Delete": "Supprimer",
    "Move to": "Déplacer vers",
    "Move": "Déplacer",
    "Loading older messages…": "Chargement des messages plus anciens…",
    "Older messages are still loading. Reload the page to see more.": (
        "Les messages plus anciens sont encore en cours de chargement. Rechargez la page pour en voir davantage."
    ),
    "Refreshing…": "Actualisation…",
    "The last refresh failed: %(reason)s": "La dernière actualisation a échoué\u00a0: %(reason)s",
    "Messages, newest first": "Messages, les plus récents en premier",
    "Select": "Sélectionner",
    "Flag": "Suivre",
    "No messages in this folder.": "Aucun message dans ce dossier.",
    "Answer": "Répondre",
    "Unflag": "Ne plus suivre",
    "Mark unread": "Marquer comme non lu",
    "Select “%(subject)s”": "Sélectionner «\u00a0%(subject)s\u00a0»",
    "Unread": "Non lu",
    "Flagged": "Suivi",
    "Show the conversation": "Afficher la conversation",
    "%(counter)s in conversation": ("%(counter)s dans la conversation", "%(counter)s dans la conversation"),
    "Has attachments": "Contient des pièces jointes",
    "Search mail": "Rechercher dans les messages",
    "Where": "Où",
    "This folder": "Ce dossier",
    "All folders": "Tous les dossiers",
    "Search": "Rechercher",
    "More options": "Plus d’options",
    "Body": "Corps",
    "Since": "Depuis",
    "Before": "Avant",
    "Unread only": "Non lus seulement",
    "With attachments": "Avec pièces jointes",
    "Mail folders": "Dossiers de messagerie",
    "No folders yet.": "Aucun dossier pour l’instant.",
    "Manage folders": "Gérer les dossiers",
    "Actions on the selected messages": "Actions sur les messages sélectionnés",
    "All": "Tous",
    "Mark read": "Marquer comme lu",
    "This folder holds only other folders.": "Ce dossier ne contient que d’autres dossiers.",
    "Delete folder": "Supprimer le dossier",
    "Delete “%(name)s”?": "Supprimer «\u00a0%(name)s\u00a0»\u00a0?",
    "The folder and the %(counter)s message in it are deleted from the mail server. This cannot be undone.": (
        "Le dossier et %(counter)s message qu’il contient sont supprimés du serveur de messagerie. Cette "
        "action est irréversible.",
        "Le dossier et les %(counter)s messages qu’il contient sont supprimés du serveur de messagerie. Cette "
        "action est irréversible.",
    ),
    "Folder": "Dossier",
    "Messages": "Messages",
    "Rename": "Renommer",
    "A special folder: it keeps its name.": "Un dossier spécial\u00a0: il garde son nom.",
    "New name for %(name)s": "Nouveau nom pour %(name)s",
    "Delete %(name)s": "Supprimer %(name)s",
    "New folder": "Nouveau dossier",
    "Name": "Nom",
    "Inside": "Dans",
    "(top level)": "(premier niveau)",
    "Create folder": "Créer le dossier",
    "Welcome, %(name)s": "Bienvenue, %(name)s",
    "You have no mail account yet.": "Vous n’avez pas encore de compte de messagerie.",
    "Add one in Admin → Mail accounts": "Ajoutez-en un dans Administration → Comptes de messagerie",
    "for yourself or for anyone on the team.": "pour vous-même ou pour n’importe qui dans l’équipe.",
    "Back to %(name)s": "Retour à %(name)s",
    "Conversation (%(counter)s message)": (
        "Conversation (%(counter)s message)",
        "Conversation (%(counter)s messages)",
    ),
    "(unknown sender)": "(expéditeur inconnu)",
    "Reply-To": "Répondre à",
    "This message is too large to show in full: only its beginning is shown. Its attachments can "
    "still be downloaded.": (
        "Ce message est trop volumineux pour être affiché en entier\u00a0: seul son début est affiché. Ses pièces "
        "jointes peuvent toujours être téléchargées."
    ),
    "Remote images are blocked: loading them would tell the sender that you opened this message.": (
        "Les images distantes sont bloquées\u00a0: les charger indiquerait à l’expéditeur que vous avez ouvert ce "
        "message."
    ),
    "Show remote images": "Afficher les images distantes",
    "Always show images from %(address)s": "Toujours afficher les images de %(address)s",
    "Remote images from %(address)s are always shown.": "Les images distantes de %(address)s sont toujours affichées.",
    "You chose to always show images from %(address)s, but this message may not come from that "
    "sender: its images stay blocked.": (
        "Vous avez choisi de toujours afficher les images de %(address)s, mais ce message ne vient peut-être pas "
        "de cet expéditeur\u00a0: ses images restent bloquées."
    ),
    "Stop showing images from this sender": "Ne plus afficher les images de cet expéditeur",
    "Message text": "Texte du message",
    "View": "Afficher",
    "Some folders are still being loaded from the server; their messages may be missing from the "
    "results. Search again in a moment.": (
        "Certains dossiers sont encore en cours de chargement depuis le serveur\u00a0; leurs messages peuvent manquer "
        "dans les résultats. Relancez la recherche dans un instant."
    ),
    "%(counter)s message found": ("%(counter)s message trouvé", "%(counter)s messages trouvés"),
    "Search results, newest first": "Résultats de la recherche, les plus récents en premier",
    "Enter words to look for, or pick options.": "Saisissez des mots à rechercher, ou choisissez des options.",
    "%(counter)s message, oldest first": (
        "%(counter)s message, le plus ancien en premier",
        "%(counter)s messages, les plus anciens en premier",
    ),
    "Message from %(who)s": "Message de %(who)s",
    "Open": "Ouvrir",
    "To: %(recipients)s": "À\u00a0: %(recipients)s",
    "Mail": "Messagerie",
    "Try again in a moment. If this goes on, ask your administrator to check the mail server.": (
        "Réessayez dans un instant. Si cela continue, demandez à votre administrateur de vérifier le serveur "
        "de messagerie."
    ),
    "Back to the folder": "Retour au dossier",
    # -- the mailbox: models, store, warnings, views --------------------------------------------
    "folder": "dossier",
    "Inbox": "Boîte de réception",
    "Junk": "Indésirables",
    "Trash": "Corbeille",
    "Archive": "Archives",
    "sender with remote images allowed": "expéditeur dont les images distantes sont autorisées",
    "senders with remote images allowed": "expéditeurs dont les images distantes sont autorisées",
    "correspondent": "correspondant",
    "correspondents": "correspondants",
    "mail watch": "surveillance de messagerie",
    "mail watches": "surveillances de messagerie",
    "Enter a folder name.": "Saisissez un nom de dossier.",
    "That name is too long.": "Ce nom est trop long.",
    "A folder name cannot contain line breaks or other control characters.": (
        "Un nom de dossier ne peut pas contenir de saut de ligne ni d’autre caractère de contrôle."
    ),
    "A folder name cannot contain “%(delimiter)s”; choose a parent folder instead.": (
        "Un nom de dossier ne peut pas contenir «\u00a0%(delimiter)s\u00a0»\u00a0; choisissez plutôt un dossier parent."
    ),
    "A folder name cannot contain % or *.": "Un nom de dossier ne peut contenir ni % ni *.",
    "Choose a folder to move the messages to.": "Choisissez un dossier où déplacer les messages.",
    "There is no Trash folder on the server.": "Il n’y a pas de dossier Corbeille sur le serveur.",
    "There is no Junk folder on the server.": "Il n’y a pas de dossier Indésirables sur le serveur.",
    "There is no Archive folder on the server.": "Il n’y a pas de dossier Archives sur le serveur.",
    "There is no Inbox.": "Il n’y a pas de boîte de réception.",
    "The messages are already in %(folder)s.": "Les messages sont déjà dans %(folder)s.",
    "This message failed the sender domain's DMARC check: it may not come from who it claims.": (
        "Ce message a échoué à la vérification DMARC du domaine de l’expéditeur\u00a0: il ne vient peut-être pas de "
        "celui qu’il prétend."
    ),
    "This message was sent from a server the sender's domain does not allow (SPF failed).": (
        "Ce message a été envoyé depuis un serveur que le domaine de l’expéditeur n’autorise pas (échec SPF)."
    ),
    "The sender's name shows the address %(shown)s, but the message comes from %(real)s.": (
        "Le nom de l’expéditeur affiche l’adresse %(shown)s, mais le message vient de %(real)s."
    ),
    "an unknown address": "une adresse inconnue",
    "The sender's domain %(domain)s mixes alphabets, a trick used to imitate other domains.": (
        "Le domaine de l’expéditeur, %(domain)s, mélange plusieurs alphabets, une ruse utilisée pour imiter "
        "d’autres domaines."
    ),
    "There is already a folder called “%(name)s”.": "Il existe déjà un dossier nommé «\u00a0%(name)s\u00a0».",
    "Unknown parent folder.": "Dossier parent inconnu.",
    "Folder “%(name)s” created.": "Dossier «\u00a0%(name)s\u00a0» créé.",
    "The Inbox and the special folders cannot be renamed.": (
        "La boîte de réception et les dossiers spéciaux ne peuvent pas être renommés."
    ),
    "“%(old)s” renamed to “%(new)s”.": "«\u00a0%(old)s\u00a0» renommé en «\u00a0%(new)s\u00a0».",
    "The Inbox and the special folders cannot be deleted.": (
        "La boîte de réception et les dossiers spéciaux ne peuvent pas être supprimés."
    ),
    "Folder “%(name)s” deleted.": "Dossier «\u00a0%(name)s\u00a0» supprimé.",
    "This account has no folders.": "Ce compte n’a aucun dossier.",
    "Unknown action.": "Action inconnue.",
    "Bad message selection.": "Sélection de messages incorrecte.",
    "Select at least one message first.": "Sélectionnez d’abord au moins un message.",
    "%(n)d message marked as read.": ("%(n)d message marqué comme lu.", "%(n)d messages marqués comme lus."),
    "%(n)d message marked as unread.": (
        "%(n)d message marqué comme non lu.",
        "%(n)d messages marqués comme non lus.",
    ),
    "%(n)d message flagged.": ("%(n)d message suivi.", "%(n)d messages suivis."),
    "%(n)d message unflagged.": ("%(n)d message n’est plus suivi.", "%(n)d messages ne sont plus suivis."),
    "%(n)d message deleted for good.": (
        "%(n)d message supprimé définitivement.",
        "%(n)d messages supprimés définitivement.",
    ),
    "%(n)d message moved to %(folder)s.": (
        "%(n)d message déplacé vers %(folder)s.",
        "%(n)d messages déplacés vers %(folder)s.",
    ),
    "no date": "sans date",
    "The mail server did not answer: %(reason)s": "Le serveur de messagerie n’a pas répondu\u00a0: %(reason)s",
    "%(counter)s unread message": ("%(counter)s message non lu", "%(counter)s messages non lus"),
    "Remote images cannot always be shown for this sender: the message may not come from who it claims.": (
        "Les images distantes ne peuvent pas toujours être affichées pour cet expéditeur\u00a0: le message ne vient "
        "peut-être pas de celui qu’il prétend."
    ),
    "Remote images from %(address)s will always be shown.": (
        "Les images distantes de %(address)s seront toujours affichées."
    ),
    "Remote images from %(address)s will no longer be shown by default.": (
        "Les images distantes de %(address)s ne seront plus affichées par défaut."
    ),
    # -- static/js (djangojs) -------------------------------------------------------------------
    "Put the address between < and >, like Ann <ann@example.org>.": (
        "Mettez l’adresse entre < et >, comme Ann <ann@example.org>."
    ),
    "%(address)s has no @.": "%(address)s ne contient pas de @.",
    "%(address)s has nothing before the @.": "%(address)s n’a rien avant le @.",
    "%(address)s has no domain after the @.": "%(address)s n’a pas de domaine après le @.",
    "%(address)s needs SMTPUTF8 (non-ASCII letters before the @). This webmail cannot send to such addresses yet.": (
        "%(address)s nécessite SMTPUTF8 (des lettres non ASCII avant le @). Ce webmail ne peut pas encore "
        "écrire à de telles adresses."
    ),
    "Suggestions": "Suggestions",
    "Remove %(recipient)s": "Retirer %(recipient)s",
    # -- the outbox's words for each recipient, the keys, the mailbox's tools -------------------
    "Not handed to your mail server yet.": "Pas encore transmis à votre serveur de messagerie.",
    "Your mail server accepted it and delivers it from there.": (
        "Votre serveur de messagerie l’a accepté et le distribue à partir de là."
    ),
    "Your mail server could not take it yet; it is tried again later.": (
        "Votre serveur de messagerie n’a pas encore pu le prendre\u00a0; un nouvel essai aura lieu plus tard."
    ),
    "Your mail server refused it: it was not sent to this address.": (
        "Votre serveur de messagerie l’a refusé\u00a0: il n’a pas été envoyé à cette adresse."
    ),
    "A delivery report says it arrived.": "Un rapport de remise indique qu’il est arrivé.",
    "A delivery report says it is delayed; the receiving server keeps trying.": (
        "Un rapport de remise indique qu’il est retardé\u00a0; le serveur destinataire continue d’essayer."
    ),
    "It could not be delivered: a report came back.": "Il n’a pas pu être remis\u00a0: un rapport est revenu.",
    "Recipient": "Destinataire",
    "What happened": "Ce qui s’est passé",
    "What the server said": "La réponse du serveur",
    "the exchange with the mail server, step by step": "l’échange avec le serveur de messagerie, étape par étape",
    "Go to the Inbox / Sent / Drafts": "Aller à la boîte de réception / aux Envoyés / aux Brouillons",
    "In a list of messages": "Dans une liste de messages",
    "Next / previous message (on a message too)": "Message suivant / précédent (aussi sur un message)",
    "Open the message": "Ouvrir le message",
    "Back to the list (on a message)": "Retour à la liste (sur un message)",
    "Select the message": "Sélectionner le message",
    "These act on the selected messages, else on the one under the cursor or open:": (
        "Ces touches agissent sur les messages sélectionnés, sinon sur celui sous le curseur ou ouvert\u00a0:"
    ),
    "Flag or unflag": "Suivre ou ne plus suivre",
    "Mark read / unread": "Marquer comme lu / non lu",
    "Junk (in Junk: not junk)": "Indésirable (dans Indésirables\u00a0: acceptable)",
    "Move to a folder: type to filter, Enter moves": (
        "Déplacer vers un dossier\u00a0: tapez pour filtrer, Entrée déplace"
    ),
    "This message": "Ce message",
    "Print": "Imprimer",
    "View source": "Afficher la source",
    "Download (.eml)": "Télécharger (.eml)",
    "Move into a folder": "Déplacer dans un dossier",
    "Folder name": "Nom du dossier",
    "Type to filter": "Tapez pour filtrer",
    "No folder matches.": "Aucun dossier ne correspond.",
    "↑ ↓ choose, Enter moves, Esc closes.": "↑ ↓ choisir, Entrée déplace, Échap ferme.",
    "Mark all as read": "Tout marquer comme lu",
    "Empty %(name)s": "Vider %(name)s",
    "Empty %(name)s?": "Vider %(name)s\u00a0?",
    "The %(counter)s message in %(name)s is deleted from the mail server for good. This cannot be undone.": (
        "Le message de %(name)s (%(counter)s) est supprimé définitivement du serveur de messagerie. Cette "
        "action est irréversible.",
        "Les %(counter)s messages de %(name)s sont supprimés définitivement du serveur de messagerie. Cette "
        "action est irréversible.",
    ),
    "Other messages": "Autres messages",
    "Menu": "Menu",
    "Sign out %(name)s": "Se déconnecter (%(name)s)",
    "Choose a folder": "Choisir un dossier",
    "Choose a message to read it here.": "Choisissez un message pour le lire ici.",
    "Newer message": "Message plus récent",
    "Older message": "Message plus ancien",
    "The formatted version of this message shows nothing readable: its plain-text version is shown instead.": (
        "La version mise en forme de ce message n’affiche rien de lisible\u00a0: sa version en texte brut est "
        "affichée à la place."
    ),
    "Remote images are shown because you have written to %(address)s (your setting).": (
        "Les images distantes sont affichées parce que vous avez écrit à %(address)s (votre réglage)."
    ),
    "Attachments:": "Pièces jointes\u00a0:",
    "These messages are no longer on the server.": "Ces messages ne sont plus sur le serveur.",
    "Print the conversation": "Imprimer la conversation",
    "mail watcher": "surveillance de messagerie",
    "mail watchers": "surveillances de messagerie",
    "Only the Trash and Junk folders can be emptied.": "Seuls les dossiers Corbeille et Indésirables peuvent être vidés.",
    "[Cut here: %(shown)s of %(size)s are shown. Download the message to see all of it.]": (
        "[Coupé ici\u00a0: %(shown)s sur %(size)s sont affichés. Téléchargez le message pour le voir en entier.]"
    ),
    "%(folder)s is empty: %(n)d message deleted for good.": (
        "%(folder)s est vide\u00a0: %(n)d message supprimé définitivement.",
        "%(folder)s est vide\u00a0: %(n)d messages supprimés définitivement.",
    ),
}
