# SPDX-License-Identifier: BSD-2-Clause
#
# Install rules beyond the binaries and man pages, and the Debian packages:
#   cmake --build build && (cd build && cpack -G DEB)
# makes provisioning_VERSION_ARCH.deb and provisioning-vauth_VERSION_ARCH.deb
# (installing to /usr).  Two install components, one package each:
#   provisioning  the tool, its man page, completion, docs, and (in the
#                 package, or `cmake --install build --component
#                 provisioning`) the udev rule, sysusers.d and tmpfiles.d
#                 entries and the systemd units under PREFIX/lib
#   vauth         the virtual authenticator (a test tool) and its man page
# A plain `cmake --install build` installs both components but not the
# system files (EXCLUDE_FROM_ALL): they are for a package manager, whose
# postinst creates the accounts they name.

set(PROV_PKG ${PROJECT_SOURCE_DIR}/packaging)
set(PROV_MAINTAINER
    "The provisioning authors <maintainers@users.noreply.r-seed-9ee36e41.example>"
    CACHE STRING "Maintainer field of the Debian packages")

# docs: Debian's machine-readable copyright, the changelog (native
# package: changelog.gz), the README; all compressed but the copyright
prov_gzip(doc_changelog ${PROJECT_SOURCE_DIR}/CHANGELOG
    ${PROJECT_BINARY_DIR}/changelog.gz)
prov_gzip(doc_readme ${PROJECT_SOURCE_DIR}/README.md
    ${PROJECT_BINARY_DIR}/README.md.gz)
install(FILES ${PROV_PKG}/debian/copyright
    ${PROJECT_BINARY_DIR}/changelog.gz ${PROJECT_BINARY_DIR}/README.md.gz
    DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/provisioning
    COMPONENT provisioning)
install(FILES ${PROV_PKG}/debian/copyright ${PROJECT_BINARY_DIR}/changelog.gz
    DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/provisioning-vauth
    COMPONENT vauth)

# shell completion
install(FILES ${PROV_PKG}/completion/provisioning.bash
    DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
    RENAME provisioning COMPONENT provisioning)
install(FILES ${PROV_PKG}/completion/_provisioning
    DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions
    COMPONENT provisioning)

# system files: PREFIX/lib, not the multiarch libdir (udev, systemd,
# sysusers and tmpfiles look in /usr/lib)
install(FILES ${PROJECT_SOURCE_DIR}/udev/70-provisioning.rules
    DESTINATION lib/udev/rules.d COMPONENT provisioning EXCLUDE_FROM_ALL)
install(FILES ${PROV_PKG}/sysusers.conf DESTINATION lib/sysusers.d
    RENAME provisioning.conf COMPONENT provisioning EXCLUDE_FROM_ALL)
install(FILES ${PROV_PKG}/tmpfiles.conf DESTINATION lib/tmpfiles.d
    RENAME provisioning.conf COMPONENT provisioning EXCLUDE_FROM_ALL)
install(FILES ${PROV_PKG}/systemd/provisioning-kiosk.service
    ${PROV_PKG}/systemd/provisioning-auto.service
    DESTINATION lib/systemd/system COMPONENT provisioning EXCLUDE_FROM_ALL)

# CPack: Debian packages
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME provisioning)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "The provisioning authors")
set(CPACK_PACKAGE_CONTACT ${PROV_MAINTAINER})
# no CPACK_PACKAGE_DESCRIPTION_SUMMARY: CPackDeb would put it before every
# package's description; each description's first line is its synopsis
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
    WORLD_READ WORLD_EXECUTE)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL provisioning vauth)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${PROV_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SOURCE provisioning)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)

set(CPACK_DEBIAN_PROVISIONING_PACKAGE_NAME provisioning)
set(CPACK_DEBIAN_PROVISIONING_PACKAGE_SUGGESTS "xdg-utils")
set(CPACK_DEBIAN_PROVISIONING_DESCRIPTION
"enroll FIDO2 passkeys into Microsoft Entra ID
provisioning enrolls FIDO2 passkeys (security keys) into Microsoft Entra
ID on behalf of users, from the command line and without a browser:
Microsoft Graph gives the registration challenge, the tool talks CTAP2 to
the key through libfido2 (setting a PIN if needed), builds the WebAuthn
attestation itself and registers it.

It enrolls one user, a CSV file of hundreds, or every member of a group
who has no passkey yet, on one key after another or on every attached
key at once. A journal makes every run resumable, and no user is given a
second passkey. Kiosk and auto modes keep a station provisioning keys
unattended; systemd units, a udev rule and the fido group for them are
included.")
set(CPACK_DEBIAN_PROVISIONING_PACKAGE_CONTROL_EXTRA
    ${PROV_PKG}/debian/postinst ${PROV_PKG}/debian/prerm
    ${PROV_PKG}/debian/postrm)
set(CPACK_DEBIAN_PROVISIONING_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

set(CPACK_DEBIAN_VAUTH_PACKAGE_NAME provisioning-vauth)
set(CPACK_DEBIAN_VAUTH_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_VAUTH_DESCRIPTION
"virtual FIDO2 (CTAP 2.1) authenticator for testing
vauth is a virtual CTAP 2.1 authenticator for tests. It listens on a Unix
stream socket and speaks CTAPHID reports, as a USB security key does over
hidraw, so that libfido2 programs (provisioning with --device unix:PATH
or --virtual-keys DIR) can be tested without hardware.

It implements clientPIN protocols 1 and 2, makeCredential with packed,
self or no attestation, getAssertion, credential management, reset and
authenticatorConfig, and injects faults on demand (wrong or blocked PIN,
presence timeout, disconnects, malformed CBOR). It is a test tool: its
keys and PINs are not protected.")

include(CPack)
